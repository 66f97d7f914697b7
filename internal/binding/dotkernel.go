package binding

import (
	"fmt"

	"github.com/tokend/tokend/internal/principal"
)

// Dotkernel is the setting of the Dotkernel API surface
// (internal/compat/dotkernel): which two clients of the tenant stand for
// Dotkernel's oauth clients, and which roles its two my-account routes
// require. Each client should have a policy login_group that holds the
// users of its account table (store.Policy.LoginGroup): Dotkernel's admin
// client logs in accounts of the admin table only, its frontend client
// those of the user table only.
type Dotkernel struct {
	// AdminClient is the client of the admin table ("admin").
	AdminClient string `json:"admin_client"`
	// UserClient is the client of the user table ("frontend").
	UserClient string `json:"user_client"`
	// AdminRole is the role GET /admin/my-account requires; default admin.
	AdminRole string `json:"admin_role,omitempty"`
	// UserRole is the role GET /user/my-account requires; default user.
	UserRole string `json:"user_role,omitempty"`
}

// Validate reports every problem, field → message.
func (d *Dotkernel) Validate() map[string]string {
	bad := map[string]string{}
	for field, v := range map[string]string{"admin_client": d.AdminClient, "user_client": d.UserClient} {
		if err := principal.ValidID(v); err != nil {
			bad[field] = fmt.Sprintf("must be a client id: %v", err)
		}
	}
	if d.AdminClient != "" && d.AdminClient == d.UserClient {
		bad["user_client"] = "must differ from admin_client"
	}
	for field, v := range map[string]string{"admin_role": d.AdminRole, "user_role": d.UserRole} {
		if v == "" {
			continue
		}
		if err := principal.ValidID(v); err != nil {
			bad[field] = fmt.Sprintf("must be a role name: %v", err)
		}
	}
	return bad
}

// LookupKey is empty: Dotkernel's requests name no tenant; the host does.
func (d *Dotkernel) LookupKey() string { return "" }

// Clients are the two clients the surface's token endpoints serve.
func (d *Dotkernel) Clients() []string { return []string{d.AdminClient, d.UserClient} }

// AdminRoleName is the role of the admin route.
func (d *Dotkernel) AdminRoleName() string { return orDefault(d.AdminRole, "admin") }

// UserRoleName is the role of the user route.
func (d *Dotkernel) UserRoleName() string { return orDefault(d.UserRole, "user") }

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func init() { Register("dotkernel", func() Settings { return &Dotkernel{} }) }
