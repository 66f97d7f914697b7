package ledger

// Queued returns how many requests wait for the committer.
func Queued(w *Writer) int { return len(w.reqs) }
