-- NAV's SMS queue as NAV creates it: the smsq table from NAV's
-- python/nav/models/sql/baseline/navprofiles.sql (Uninett/nav), in the profiles schema that
-- navsyncdb loads it into, with the account table it refers to reduced to the columns used
-- here.
CREATE SCHEMA profiles;

CREATE TABLE profiles.account (
    id integer PRIMARY KEY,
    login varchar NOT NULL,
    name varchar
);

CREATE TABLE profiles.smsq (
    id serial,
    accountid integer,
    time timestamp NOT NULL,
    phone varchar(15) NOT NULL,
    msg varchar(145) NOT NULL,
    sent char(1) NOT NULL DEFAULT 'N'
        CHECK (sent='Y' or sent='N' or sent='I'),
    smsid integer,
    timesent timestamp,
    severity integer,

    CONSTRAINT smsq_pkey PRIMARY KEY(id),
    CONSTRAINT smsq_accountid_fkey
        FOREIGN KEY(accountid) REFERENCES profiles.account(id)
        ON DELETE CASCADE
        ON UPDATE CASCADE
);

INSERT INTO profiles.account (id, login, name) VALUES (1000, 'admin', 'NAV Administrator');
