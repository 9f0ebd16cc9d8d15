// Package storage keeps Switchboard's durable state (the call log first) in
// SQL through sqlx. SQLite (github.com/mattn/go-sqlite3) is the embedded
// default; the statements are written so that PostgreSQL can follow behind
// the same API. The schema is a set of goose migrations embedded in the
// binary and applied by Open.
//
// SQLite allows one writer at a time. Rather than let concurrent writers
// collide and retry on SQLITE_BUSY, a file database is opened as two pools:
// a write pool of exactly one connection, used by one writer goroutine
// whose transactions begin IMMEDIATE, and a read pool of several query-only
// connections that read in WAL mode without blocking the writer or each
// other. An in-memory database is private to its connection, so it is opened
// as one pool of one connection that serves both.
//
// Every write method goes through the writer (writer.go): writes that
// arrive while a transaction commits are committed together in the next
// one (group commit), each in its own savepoint so that one failing write
// is rolled back alone. A write method returns once its write is committed.
//
// Durability: WAL with synchronous=NORMAL. A commit is in the WAL file when
// the method returns, so it survives a crash or a kill -9 of the process;
// the WAL is synced at checkpoints, not at every commit, so an operating
// system crash or a power loss can lose the last commits (never corrupt the
// database). FULL would sync every commit, at the cost of one fsync each.
package storage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeoutMS is how long a connection waits for a lock held by another
// process (a backup, the sqlite3 shell, a WAL checkpoint) before giving up.
const busyTimeoutMS = 5000

// DB is an open Switchboard database. It is safe for concurrent use.
type DB struct {
	write *sqlx.DB // one connection: every write goes through it
	read  *sqlx.DB // query-only connections; the write pool for :memory:
	w     *writer  // the goroutine that runs every write on the write pool
	prep  *prepared
	name  string // the file, for messages
}

// Open opens (creating if needed) the SQLite database at dsn and brings its
// schema up to date. dsn is a file path ("/var/lib/switchboard/switchboard.db"),
// a "file:" URI, or ":memory:" for a private in-memory database (tests).
// Open sets WAL mode with synchronous=NORMAL, a busy timeout and foreign
// keys, and starts the writer; errors name the file.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("storage: open: empty database path")
	}
	name, memory := describe(dsn)
	db := &DB{name: name}
	fail := func(err error) (*DB, error) {
		db.Close()
		return nil, fmt.Errorf("storage: open %s: %w", name, err)
	}

	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	common.Set("_foreign_keys", "on")

	w := cloneValues(common)
	w.Set("_txlock", "immediate")
	if !memory {
		w.Set("_journal_mode", "WAL")
		// A commit is in the WAL when acknowledged (safe from a process
		// crash); the WAL is synced at checkpoints, so an OS crash or power
		// loss can lose the last commits. See the package comment.
		w.Set("_synchronous", "NORMAL")
	}
	var err error
	if db.write, err = sqlx.Open("sqlite3", withParams(dsn, w)); err != nil {
		return fail(err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		return fail(err)
	}
	if !memory {
		var mode string
		if err := db.write.GetContext(ctx, &mode, "PRAGMA journal_mode"); err != nil {
			return fail(err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fail(fmt.Errorf("journal mode is %q, want wal (is the file on a network file system?)", mode))
		}
	}
	if err := migrate(ctx, db.write); err != nil {
		return fail(err)
	}
	if db.prep, err = prepare(ctx, db.write); err != nil {
		return fail(err)
	}
	db.w = startWriter(db.write, db.prep, name)

	if memory {
		db.read = db.write
		return db, nil
	}
	r := cloneValues(common)
	r.Set("_query_only", "on")
	if db.read, err = sqlx.Open("sqlite3", withParams(dsn, r)); err != nil {
		return fail(err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	if err := db.read.PingContext(ctx); err != nil {
		return fail(err)
	}
	return db, nil
}

// migrate applies the embedded migrations that the database has not seen.
func migrate(ctx context.Context, db *sqlx.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.DB, fsys)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// p.Close would close db, which the caller owns: it is not called.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes the database. The writes already queued are committed and
// their callers answered first; a write after Close fails.
func (db *DB) Close() error {
	if db.w != nil {
		db.w.close()
	}
	var errs []error
	if db.prep != nil {
		errs = append(errs, db.prep.close())
	}
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: close %s: %w", db.name, err)
	}
	return nil
}

// Ping checks that the database answers to readers and to the writer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping %s: %w", db.name, err)
	}
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping %s: %w", db.name, err)
	}
	return nil
}

// describe returns the file name a DSN refers to (for messages) and whether
// it is an in-memory database.
func describe(dsn string) (name string, memory bool) {
	name, query, _ := strings.Cut(dsn, "?")
	name = strings.TrimPrefix(name, "file:")
	if name == "" || name == ":memory:" {
		return ":memory:", true
	}
	q, _ := url.ParseQuery(query)
	return name, q.Get("mode") == "memory"
}

// withParams appends driver parameters to a DSN; parameters the DSN already
// names keep the caller's value.
func withParams(dsn string, params url.Values) string {
	_, query, has := strings.Cut(dsn, "?")
	given, _ := url.ParseQuery(query)
	add := url.Values{}
	for k, v := range params {
		if _, ok := given[k]; !ok {
			add[k] = v
		}
	}
	if len(add) == 0 {
		return dsn
	}
	sep := "?"
	if has {
		sep = "&"
	}
	return dsn + sep + add.Encode()
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}
