package golden

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
)

// contextLines is how many unchanged lines Diff shows around a change.
const contextLines = 2

// Diff returns a line diff of want and got: lines only in want start with
// "-", lines only in got with "+", unchanged lines around them with " ".
// A line whose difference would be invisible (trailing white space,
// control characters) is shown quoted, and a last line without a newline
// says so.
func Diff(want, got []byte) string {
	a, b := lines(want), lines(got)
	ops := script(a, b)
	var out strings.Builder
	skipping := false
	for i, op := range ops {
		if op.kind == ' ' && !near(ops, i) {
			if !skipping {
				out.WriteString("  ...\n")
			}
			skipping = true
			continue
		}
		skipping = false
		out.WriteByte(op.kind)
		out.WriteByte(' ')
		out.WriteString(show(op.line))
		out.WriteByte('\n')
	}
	return out.String()
}

type edit struct {
	kind byte // ' ', '-' or '+'
	line string
}

// near reports whether ops[i] is a change or within contextLines of one.
func near(ops []edit, i int) bool {
	for j := max(0, i-contextLines); j <= min(len(ops)-1, i+contextLines); j++ {
		if ops[j].kind != ' ' {
			return true
		}
	}
	return false
}

// lines splits b after each newline, keeping it.
func lines(b []byte) []string {
	var l []string
	for _, x := range bytes.SplitAfter(b, []byte("\n")) {
		if len(x) > 0 {
			l = append(l, string(x))
		}
	}
	return l
}

// script is the shortest edit script from a to b (longest common
// subsequence; golden files are small).
func script(a, b []string) []edit {
	n, m := len(a), len(b)
	if n*m > 1<<22 {
		var ops []edit
		for _, x := range a {
			ops = append(ops, edit{'-', x})
		}
		for _, x := range b {
			ops = append(ops, edit{'+', x})
		}
		return ops
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []edit
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, edit{' ', a[i]})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, edit{'-', a[i]})
			i++
		default:
			ops = append(ops, edit{'+', b[j]})
			j++
		}
	}
	return ops
}

// show renders one line for the diff.
func show(l string) string {
	s, nl := strings.CutSuffix(l, "\n")
	visible := strings.TrimRightFunc(s, unicode.IsSpace) == s && strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\t'
	}) < 0
	if !visible {
		s = strconv.Quote(s)
	}
	if !nl {
		s += "  (no newline at end)"
	}
	return s
}
