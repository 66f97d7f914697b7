package apstrata

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/tokend/tokend/internal/httpx"
)

// The actions this surface answers.
const (
	actionGenerate = "GenerateToken"
	actionRenew    = "RenewToken"
	actionDelete   = "DeleteToken"
	actionVerify   = "VerifyCredentials"
)

// Parameter names (wiki "REST API Reference", Common Request Parameters;
// the seed's GenerateToken table; wiki "RenewToken").
const (
	pTime          = "apsws.time"
	pSig           = "apsws.authSig"
	pMode          = "apsws.authMode"
	pID            = "apsws.id"
	pUser          = "apsws.user"
	pResponseType  = "apsws.responseType"
	pJSONP         = "apsws.jc"
	pCustom        = "apsws.customField"
	pRunAs         = "apsdb.runAs"
	pForce200      = "apsdb.force200ResponseStatus"
	pToken         = "apsdb.authToken"
	pTokenExpires  = "apsdb.tokenExpires"
	pTokenLifetime = "apsdb.tokenLifetime"
	pBindReferrer  = "apsdb.bindReferrer"
	pTokenInCookie = "apsdb.tokenInCookie"
)

// common are the parameters every action takes.
var common = []string{pTime, pSig, pMode, pID, pUser, pResponseType, pJSONP, pCustom, pRunAs, pForce200, pToken}

// specific are each action's own parameters.
var specific = map[string][]string{
	actionGenerate: {pTokenExpires, pTokenLifetime, pBindReferrer, pTokenInCookie},
	actionRenew:    {pBindReferrer, pTokenInCookie},
	actionDelete:   nil,
	actionVerify:   nil,
}

// jsonpName is what apsws.jc may be: a JavaScript identifier, dotted
// names allowed (a.b.cb), at most 64 characters.
var jsonpName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`)

// format is how the answer is written, read before anything else so that
// even a malformed request is answered in the shape it asked for.
type format struct {
	JSON     bool
	Callback string // JSONP callback, JSON only
	Force200 bool
}

// request is a parsed request to /apsdb/rest/{authKey}/{action}.
type request struct {
	AuthKey, Action string
	// Params are the query and form parameters together.
	Params url.Values
	Time   string
	Sig    string
	// Mode is simple, complex or token.
	Mode string
	// ID is apsws.id (or its older name apsws.user); empty for the owner.
	ID    string
	RunAs string
	Token string
	// ExpiresIn and Lifetime are apsdb.tokenExpires and
	// apsdb.tokenLifetime, nil when absent.
	ExpiresIn, Lifetime *int64
	// BindReferrer is nil when not sent (users: true by default).
	BindReferrer *bool
	Cookie       bool
}

// paramError is a bad request in the legacy terms: its code and detail.
type paramError struct{ code, detail string }

func (e *paramError) Error() string { return e.code + ": " + e.detail }

func invalidParameter(detail string) *paramError {
	return &paramError{code: codeInvalidParameter, detail: detail}
}

func invalidValue(detail string) *paramError {
	return &paramError{code: codeInvalidParameterValue, detail: detail}
}

// readParams merges the query string and, for a POST, the form body;
// a parameter may be sent once, in either.
func readParams(r *http.Request, maxBody int64) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalidValue("The query string is malformed")
	}
	all := q
	if r.Method == http.MethodPost && (r.ContentLength != 0 || r.Header.Get("Content-Type") != "") {
		body, err := httpx.ReadBody(r, maxBody)
		if err != nil {
			return q, err
		}
		if len(body) > 0 {
			if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
				return q, invalidValue("The request body must be application/x-www-form-urlencoded")
			}
			f, err := url.ParseQuery(string(body))
			if err != nil {
				return q, invalidValue("The request body is malformed")
			}
			for k, vs := range f {
				all[k] = append(all[k], vs...)
			}
		}
	}
	return all, nil
}

// readFormat reads how to answer, leniently: a bad apsws.jc or
// apsws.responseType is reported by parse, answered without JSONP.
func readFormat(p url.Values) format {
	f := format{JSON: p.Get(pResponseType) == "json"}
	if cb := p.Get(pJSONP); cb != "" && len(cb) <= 64 && jsonpName.MatchString(cb) {
		f.JSON, f.Callback = true, cb
	}
	f.Force200 = p.Get(pForce200) == "true"
	return f
}

// parse checks a request's parameters strictly: known names only, each
// once, well-formed values.
func parse(authKey, action string, p url.Values) (request, error) {
	rq := request{AuthKey: authKey, Action: action, Params: p}
	allowed, ok := specific[action]
	if !ok {
		return rq, &paramError{code: codeInvalidRequest, detail: "The action [" + action + "] is not supported"}
	}
	for k, vs := range p {
		if !contains(common, k) && !contains(allowed, k) {
			return rq, invalidParameter("The parameter [" + k + "] is not allowed in " + action)
		}
		if len(vs) > 1 {
			return rq, invalidParameter("The parameter [" + k + "] must be sent once")
		}
	}
	switch rt := p.Get(pResponseType); rt {
	case "", "xml", "json":
	default:
		return rq, invalidValue("The parameter [" + pResponseType + "] must be xml or json")
	}
	if cb := p.Get(pJSONP); p.Has(pJSONP) && (cb == "" || len(cb) > 64 || !jsonpName.MatchString(cb)) {
		return rq, invalidValue("The parameter [" + pJSONP + "] must be a JavaScript identifier")
	}
	for _, name := range []string{pForce200, pBindReferrer, pTokenInCookie} {
		if v := p.Get(name); p.Has(name) && v != "true" && v != "false" {
			return rq, invalidValue("The parameter [" + name + "] must be true or false")
		}
	}
	rq.Time, rq.Sig, rq.RunAs, rq.Token = p.Get(pTime), p.Get(pSig), p.Get(pRunAs), p.Get(pToken)
	if p.Has(pID) && p.Has(pUser) && p.Get(pID) != p.Get(pUser) {
		return rq, invalidParameter("The parameters [" + pID + "] and [" + pUser + "] name different identifiers")
	}
	rq.ID = p.Get(pID)
	if rq.ID == "" {
		rq.ID = p.Get(pUser)
	}
	rq.Mode = p.Get(pMode)
	switch rq.Mode {
	case "":
		rq.Mode = "complex" // the wiki's default
	case "simple", "complex", "token":
	default:
		return rq, invalidValue("The parameter [" + pMode + "] must be simple, complex or token")
	}
	if rq.Time == "" {
		return rq, invalidParameter("The parameter [" + pTime + "] is required")
	}
	if _, err := strconv.ParseInt(rq.Time, 10, 64); err != nil {
		return rq, invalidValue("The parameter [" + pTime + "] is not a valid number.")
	}
	var err error
	if rq.ExpiresIn, err = seconds(p, pTokenExpires); err != nil {
		return rq, err
	}
	if rq.Lifetime, err = seconds(p, pTokenLifetime); err != nil {
		return rq, err
	}
	if p.Has(pBindReferrer) {
		b := p.Get(pBindReferrer) == "true"
		rq.BindReferrer = &b
	}
	rq.Cookie = p.Get(pTokenInCookie) == "true"
	return rq, nil
}

// seconds reads a relative time in seconds.
func seconds(p url.Values, name string) (*int64, error) {
	if !p.Has(name) {
		return nil, nil
	}
	n, err := strconv.ParseInt(p.Get(name), 10, 64)
	if err != nil {
		return nil, invalidValue("The parameter [" + name + "] is not a valid number.")
	}
	return &n, nil // its bounds are the core's (mint), rendered by render.go
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// refererOrigin is the origin (scheme://host[:port]) of the one Referer
// header, which must be an absolute http or https URL.
func refererOrigin(refs []string) (string, bool) {
	if len(refs) != 1 {
		return "", false
	}
	u, err := url.Parse(refs[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}
