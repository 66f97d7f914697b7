package principal

// Actor is who asks for a change or a token, as the audit log names them.
type Actor struct {
	Tenant   string // tenant of the actor's credential
	Subject  string
	ClientID string
}

func (a Actor) String() string {
	if a.Subject == "" {
		return "system"
	}
	return a.Tenant + "/" + a.Subject
}
