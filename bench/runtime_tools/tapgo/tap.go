// Package tap is jocker's stand-in for github.com/mndrix/tap-go, which Debian does not package.
//
// build.sh places it at that import path in a private GOPATH so the runtime-tools validation
// programs build offline. It implements only the API those programs call (New, Header,
// AutoPlan, Ok, Fail, Todo, Skip, Diagnostic, Diagnosticf, YAML) and writes TAP version 13 to
// stdout. YAML blocks are emitted as indented JSON, which is valid YAML.
package tap

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// T is one TAP stream.
type T struct {
	nextTestNumber int
	autoPlan       bool
	todo           bool
	// Writer is where the TAP output goes (stdout by default).
	Writer io.Writer
}

// New starts a TAP stream on stdout.
func New() *T {
	return &T{nextTestNumber: 1, Writer: os.Stdout}
}

func (t *T) printf(format string, a ...interface{}) {
	fmt.Fprintf(t.Writer, format, a...)
}

// Header prints the TAP version line and, for testCount > 0, the plan.
func (t *T) Header(testCount int) {
	t.printf("TAP version 13\n")
	if testCount > 0 {
		t.printf("1..%d\n", testCount)
	}
}

// AutoPlan prints the plan line for the tests run so far (call it last).
func (t *T) AutoPlan() {
	if t.autoPlan {
		return
	}
	t.autoPlan = true
	t.printf("1..%d\n", t.nextTestNumber-1)
}

// Ok reports one test result.
func (t *T) Ok(test bool, description string) {
	status := "ok"
	if !test {
		status = "not ok"
	}
	directive := ""
	if t.todo {
		directive, t.todo = " # TODO", false
	}
	t.printf("%s %d - %s%s\n", status, t.nextTestNumber, escape(description), directive)
	t.nextTestNumber++
}

// Todo marks the next test as TODO (its failure does not count) and returns t.
func (t *T) Todo() *T {
	t.todo = true
	return t
}

// Pass reports a passing test.
func (t *T) Pass(description string) { t.Ok(true, description) }

// Fail reports a failing test.
func (t *T) Fail(description string) { t.Ok(false, description) }

// Skip reports count skipped tests.
func (t *T) Skip(count int, description string) {
	for i := 0; i < count; i++ {
		t.printf("ok %d # SKIP %s\n", t.nextTestNumber, escape(description))
		t.nextTestNumber++
	}
}

// Diagnostic prints a comment line (or lines).
func (t *T) Diagnostic(message string) {
	for _, line := range strings.Split(strings.TrimRight(message, "\n"), "\n") {
		t.printf("# %s\n", line)
	}
}

// Diagnosticf is Diagnostic with a format.
func (t *T) Diagnosticf(format string, a ...interface{}) {
	t.Diagnostic(fmt.Sprintf(format, a...))
}

// YAML prints a YAML block attached to the previous test line.
func (t *T) YAML(message interface{}) error {
	data, err := json.MarshalIndent(message, "  ", "  ")
	if err != nil {
		return err
	}
	t.printf("  ---\n  %s\n  ...\n", data)
	return nil
}

func escape(description string) string {
	return strings.ReplaceAll(strings.ReplaceAll(description, "\n", " "), "#", "\\#")
}
