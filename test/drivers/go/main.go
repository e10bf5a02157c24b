// The Go example of docs/clients.md, run by test/suites/drivers.sh against a
// throwaway cluster (PG* variables): COPY into agentstore.session_import with
// lib/pq, a call with jsonb parameters, and the two traps the document names.
// Prints one "ok - ..." or "not ok - ..." line per check.
package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/lib/pq"
)

var failed bool

func check(name string, ok bool, detail ...any) {
	if ok {
		fmt.Println("ok - go: " + name)
		if err, _ := detail[len(detail)-1].(error); err != nil {
			fmt.Println("#   " + err.Error())
		}
	} else {
		failed = true
		fmt.Println("not ok - go: "+name, fmt.Sprint(detail...))
	}
}

func importSessions(db *sql.DB, rows [][]any) (inserted, updated int64, err error) {
	txn, err := db.Begin()
	if err != nil {
		return 0, 0, err
	}
	defer txn.Rollback()
	stmt, err := txn.Prepare(pq.CopyInSchema("agentstore", "session_import",
		"app_name", "session_id", "user_id", "state"))
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rows {
		if _, err = stmt.Exec(r...); err != nil {
			return 0, 0, err
		}
	}
	if _, err = stmt.Exec(); err != nil {
		return 0, 0, err
	}
	if err = stmt.Close(); err != nil {
		return 0, 0, err
	}
	err = txn.QueryRow(`SELECT inserted, updated FROM agentstore.session_import_result()`).
		Scan(&inserted, &updated)
	if err != nil {
		return 0, 0, err
	}
	return inserted, updated, txn.Commit()
}

func main() {
	db, err := sql.Open("postgres", "")
	if err != nil {
		fmt.Println("not ok - go: connect", err)
		os.Exit(1)
	}
	defer db.Close()

	state, _ := json.Marshal(map[string]any{"topic": "go"})
	ins, upd, err := importSessions(db, [][]any{
		{"drivers-go", "s1", "ann", string(state)},
		{"drivers-go", "s2", "ann", string(state)},
		{"drivers-go", "s3", "bob", nil},
	})
	check("COPY with CopyInSchema imports 3 new sessions", err == nil && ins == 3 && upd == 0, ins, upd, err)

	e, _ := json.Marshal(map[string]any{"id": "e-1", "author": "user"})
	d, _ := json.Marshal(map[string]any{"turn": 1})
	var version int64
	err = db.QueryRow(`SELECT version FROM agentstore.append_event($1, $2, $3, $4, $5)`,
		"drivers-go", "ann", "s1", string(e), string(d)).Scan(&version)
	check("append_event with JSON as string parameters", err == nil && version == 1, version, err)

	var turn string
	err = db.QueryRow(`SELECT agentstore.get_session('drivers-go', 'ann', 's1') -> 'state' ->> 'turn'`).Scan(&turn)
	check("the state delta was applied", err == nil && turn == "1", turn, err)

	// The traps: CopyIn quotes the dotted name as one identifier ...
	txn, _ := db.Begin()
	_, err = txn.Prepare(pq.CopyIn("agentstore.session_import", "app_name", "session_id", "user_id"))
	txn.Rollback()
	check("CopyIn(\"agentstore.session_import\") fails: one quoted identifier",
		err != nil && strings.Contains(err.Error(), `"agentstore.session_import" does not exist`), err)
	// ... and a []byte is sent as bytea in a COPY row (\x7b22...), and in
	// binary format with binary_parameters=yes: neither is JSON text.
	_, _, err = importSessions(db, [][]any{{"drivers-go", "s4", "ann", state}})
	check("a []byte jsonb value in a COPY row is refused", err != nil && strings.Contains(err.Error(), "json"), err)
	bin, err := sql.Open("postgres", "binary_parameters=yes")
	if err == nil {
		_, err = bin.Exec(`SELECT agentstore.append_event($1, $2, $3, $4)`, "drivers-go", "ann", "s1", e)
		bin.Close()
	}
	check("a []byte jsonb parameter with binary_parameters=yes is refused", err != nil && strings.Contains(err.Error(), "jsonb"), err)
	// (A []byte query parameter of a prepared statement without
	// binary_parameters is sent as it is, as text: lib/pq 1.12 accepts it.)

	if failed {
		os.Exit(1)
	}
}
