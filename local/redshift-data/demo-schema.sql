-- A small TICKIT-style schema (the sample database of the Redshift documentation) with
-- generated rows. Every value is computed from the row number, so each load gives the same data.
-- `sales` and `listing` belong to tenants: row-level security shows a db user only the rows of
-- the tenant `tenant_users` maps it to (tenant_users.db_user = current_user), so the rule is keyed
-- on the database user, whatever names the users have. The other tables are reference data every
-- db user may read. Loaded by the Data API emulator at start, as the superuser; it replaces earlier
-- demo tables, and keeps tenant_users (the users live on, and so does what they may see).

DROP TABLE IF EXISTS sales, listing, event, date, category, venue, users CASCADE;

CREATE TABLE users (
  userid integer NOT NULL PRIMARY KEY,
  username char(8),
  firstname varchar(30),
  lastname varchar(30),
  city varchar(30),
  state char(2),
  email varchar(100),
  phone char(14),
  likesports boolean,
  liketheatre boolean,
  likeconcerts boolean
);

CREATE TABLE venue (
  venueid smallint NOT NULL PRIMARY KEY,
  venuename varchar(100),
  venuecity varchar(30),
  venuestate char(2),
  venueseats integer
);

CREATE TABLE category (
  catid smallint NOT NULL PRIMARY KEY,
  catgroup varchar(10),
  catname varchar(10),
  catdesc varchar(50)
);

CREATE TABLE date (
  dateid smallint NOT NULL PRIMARY KEY,
  caldate date NOT NULL,
  day char(3) NOT NULL,
  week smallint NOT NULL,
  month char(5) NOT NULL,
  qtr char(5) NOT NULL,
  year smallint NOT NULL,
  holiday boolean DEFAULT false
);

CREATE TABLE event (
  eventid integer NOT NULL PRIMARY KEY,
  venueid smallint NOT NULL,
  catid smallint NOT NULL,
  dateid smallint NOT NULL,
  eventname varchar(200),
  starttime timestamp
);

CREATE TABLE listing (
  listid integer NOT NULL PRIMARY KEY,
  tenant_id varchar(64) NOT NULL,
  sellerid integer NOT NULL,
  eventid integer NOT NULL,
  dateid smallint NOT NULL,
  numtickets smallint NOT NULL,
  priceperticket decimal(8,2),
  totalprice decimal(8,2),
  listtime timestamp
);

CREATE TABLE sales (
  salesid integer NOT NULL PRIMARY KEY,
  tenant_id varchar(64) NOT NULL,
  listid integer NOT NULL,
  sellerid integer NOT NULL,
  buyerid integer NOT NULL,
  eventid integer NOT NULL,
  dateid smallint NOT NULL,
  qtysold smallint NOT NULL,
  pricepaid decimal(8,2),
  commission decimal(8,2),
  saletime timestamp
);

-- 1000 users. Names, cities and tastes cycle through fixed lists at different strides.
INSERT INTO users
SELECT n,
  'user' || lpad(n::text, 4, '0'),
  (ARRAY['Rafael','Vladimir','Lars','Barry','Reagan','Victor','Tamekah','Colton','Mufutau',
         'Naida','Amy','Ivy','Hedda','Keane','Quon','Ferris','Erin','Hilary','Wyatt','Zena'])
    [1 + (n * 7) % 20],
  (ARRAY['Taylor','Sharpe','Clarke','Gilmore','Bruce','Garrett','Rich','Hays','Hendrix',
         'Freeman','Davis','Weeks','Cruz','Frost','Nash','Ramos','Joyner','Shaw','Kent','Wolfe'])
    [1 + (n * 13) % 20],
  (ARRAY['Kent','Augusta','Lansing','Boise','Salem','Dover','Helena','Austin','Albany','Topeka'])
    [1 + n % 10],
  (ARRAY['WA','ME','MI','ID','OR','DE','MT','TX','NY','KS'])[1 + n % 10],
  'user' || n || '@example.com',
  '(' || lpad((200 + n % 700)::text, 3, '0') || ') 555-' || lpad((n % 10000)::text, 4, '0'),
  CASE n % 3 WHEN 0 THEN true WHEN 1 THEN false END,
  CASE n % 4 WHEN 0 THEN false WHEN 1 THEN true END,
  n % 5 = 0
FROM generate_series(1, 1000) AS n;

-- 50 venues.
INSERT INTO venue
SELECT n,
  (ARRAY['Arena','Stadium','Theatre','Hall','Center','Park','Field','Coliseum','Dome','Garden'])
    [1 + n % 10] || ' ' || n,
  (ARRAY['New York City','Los Angeles','Chicago','Houston','Phoenix','Denver','Seattle','Boston',
         'Miami','Atlanta'])[1 + (n * 3) % 10],
  (ARRAY['NY','CA','IL','TX','AZ','CO','WA','MA','FL','GA'])[1 + (n * 3) % 10],
  CASE WHEN n % 7 = 0 THEN NULL ELSE 1000 + (n * 977) % 70000 END
FROM generate_series(1, 50) AS n;

-- The eleven TICKIT categories.
INSERT INTO category VALUES
  (1, 'Sports', 'MLB', 'Major League Baseball'),
  (2, 'Sports', 'NHL', 'National Hockey League'),
  (3, 'Sports', 'NFL', 'National Football League'),
  (4, 'Sports', 'NBA', 'National Basketball Association'),
  (5, 'Sports', 'MLS', 'Major League Soccer'),
  (6, 'Shows', 'Musicals', 'Musical theatre'),
  (7, 'Shows', 'Plays', 'All non-musical theatre'),
  (8, 'Shows', 'Opera', 'All opera and light opera'),
  (9, 'Concerts', 'Pop', 'All rock and pop music concerts'),
  (10, 'Concerts', 'Jazz', 'All jazz singers and bands'),
  (11, 'Concerts', 'Classical', 'All symphony, concerto, and choir concerts');

-- Every day of 2008.
INSERT INTO date
SELECT n,
  d,
  upper(to_char(d, 'Dy')),
  extract(week FROM d),
  upper(to_char(d, 'Mon')),
  'Q' || extract(quarter FROM d),
  2008,
  to_char(d, 'MM-DD') IN ('01-01', '07-04', '12-25')
FROM generate_series(1, 366) AS n,
  LATERAL (SELECT date '2008-01-01' + (n - 1) AS d) AS day;

-- 500 events over the year's days, venues and categories.
INSERT INTO event
SELECT n,
  1 + (n * 7) % 50,
  1 + n % 11,
  1 + (n * 17) % 366,
  (ARRAY['Hamlet','Macbeth','The Magic Flute','La Boheme','Carmen','Wicked','Cats','Rent',
         'Grease','Annie','Mamma Mia!','Chicago','Jersey Boys','Les Miserables','Tosca'])
    [1 + n % 15] || ' #' || n,
  timestamp '2008-01-01 19:30:00' + ((n * 17) % 366) * interval '1 day'
    - (n % 4) * interval '90 minutes'
FROM generate_series(1, 500) AS n;

-- 2000 listings, each owned by one of the four demo tenants in turn.
INSERT INTO listing
SELECT n,
  (ARRAY['acme','globex','initech','umbrella'])[1 + n % 4],
  1 + (n * 37) % 1000,
  1 + (n * 11) % 500,
  1 + (n * 5) % 366,
  1 + n % 10,
  (20 + (n * 13) % 480)::decimal(8,2) + (n % 4) * 0.25,
  ((20 + (n * 13) % 480)::decimal(8,2) + (n % 4) * 0.25) * (1 + n % 10),
  timestamp '2008-01-01 08:00:00' + ((n * 5) % 366) * interval '1 day'
    + (n % 600) * interval '1 minute'
FROM generate_series(1, 2000) AS n;

-- 3000 sales of those listings; a sale belongs to its listing's tenant.
INSERT INTO sales
SELECT n,
  l.tenant_id,
  l.listid,
  l.sellerid,
  1 + (n * 53) % 1000,
  l.eventid,
  l.dateid,
  1 + n % l.numtickets,
  l.priceperticket * (1 + n % l.numtickets),
  round(l.priceperticket * (1 + n % l.numtickets) * 0.15, 2),
  l.listtime + (1 + n % 72) * interval '1 hour'
FROM generate_series(1, 3000) AS n
JOIN listing AS l ON l.listid = 1 + (n * 7) % 2000;

-- Which tenant each database user belongs to; filled as users are created. A user reads only its
-- own row, which is what the policies on sales and listing need.
CREATE TABLE IF NOT EXISTS tenant_users (
  db_user varchar(128) NOT NULL PRIMARY KEY,
  tenant_id varchar(64) NOT NULL
);
GRANT SELECT ON tenant_users TO PUBLIC;
ALTER TABLE tenant_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_users FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_row ON tenant_users;
CREATE POLICY own_row ON tenant_users USING (db_user = current_user::text);

-- Reference data for everyone; tenant data through the policies below.
GRANT SELECT ON users, venue, category, date, event, listing, sales TO PUBLIC;

ALTER TABLE listing ENABLE ROW LEVEL SECURITY;
ALTER TABLE listing FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON listing
  USING (tenant_id = (SELECT t.tenant_id FROM tenant_users AS t WHERE t.db_user = current_user::text));

ALTER TABLE sales ENABLE ROW LEVEL SECURITY;
ALTER TABLE sales FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sales
  USING (tenant_id = (SELECT t.tenant_id FROM tenant_users AS t WHERE t.db_user = current_user::text));

ANALYZE users, venue, category, date, event, listing, sales;
