//! TLS for the faces (`[http]` and `[smpp_server]` `tls_cert`, `tls_key`): rustls with
//! ring, the same stack the SMPP client uses; the files are read when the daemon starts.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::{
    self,
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
};
use tokio_rustls::TlsAcceptor;

/// The acceptor for the certificate chain in `cert` and the private key in `key` (PEM);
/// errors name the keys of `section` (`[http]`).
pub fn acceptor(section: &str, cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{section} tls_cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "{section} tls_cert {}: no certificate in it (PEM, BEGIN CERTIFICATE)",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{section} tls_key {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| format!("{section} tls_cert and tls_key do not make a certificate: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = acceptor("[http]", &missing, &missing).err().unwrap();
        assert!(
            e.starts_with("[http] tls_cert ") && e.contains("nope.pem"),
            "{e}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not PEM\n").unwrap();
        let e = acceptor("[http]", &empty, &empty).err().unwrap();
        assert!(e.contains("no certificate in it"), "{e}");
    }
}
