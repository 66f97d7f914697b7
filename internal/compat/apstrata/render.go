package apstrata

import (
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/reqctx"
)

// The error codes of the seed's GenerateToken table.
const (
	codeInvalidParameter      = "INVALID_PARAMETER"
	codeInvalidRequest        = "INVALID_REQUEST"
	codeInvalidParameterValue = "INVALID_PARAMETER_VALUE"
	codeInternal              = "INTERNAL_ERROR"
	codeInvalidSignature      = "INVALID_SIGNATURE"
	codeInvalidIdentifier     = "INVALID_IDENTIFIER"
	codeMalformedReferer      = "MALFORMED_REFERER"
	codeTooManyTokens         = "TOO_MANY_TOKENS"
)

// xmlns is the namespace of the seed's failure sample.
const xmlns = "http://www.apstrata.com/services/schemas/apstrata_database_response.xsd"

// Messages of the seed's table, verbatim but for the filled brackets.
const (
	msgAnonymous = "GenerateToken must not be called anonymously"
	msgRunAs     = "Invalid parameter apsdb.runAs"
)

// tokenResult is the seed's GenerateToken result, values as strings.
type tokenResult struct {
	Token    string `json:"apsdb.authToken,omitempty" xml:"apsdb.authToken,omitempty"`
	Expires  string `json:"apsdb.tokenExpires" xml:"apsdb.tokenExpires"`
	Lifetime string `json:"apsdb.tokenLifetime" xml:"apsdb.tokenLifetime"`
}

type metadata struct {
	RequestID   string `json:"requestId" xml:"requestId"`
	Status      string `json:"status" xml:"status"`
	ErrorCode   string `json:"errorCode,omitempty" xml:"errorCode,omitempty"`
	ErrorDetail string `json:"errorDetail,omitempty" xml:"errorDetail,omitempty"`
}

type xmlResult struct {
	*tokenResult
}

type xmlResponse struct {
	XMLName  xml.Name   `xml:"response"`
	Xmlns    string     `xml:"xmlns,attr,omitempty"`
	Metadata metadata   `xml:"metadata"`
	Result   *xmlResult `xml:"result"`
}

type jsonBody struct {
	Metadata metadata `json:"metadata"`
	Result   any      `json:"result,omitempty"`
}

type jsonResponse struct {
	Response jsonBody `json:"response"`
}

// newRequestID returns a random (version 4) UUID, the form of the
// samples' requestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeSuccess answers success, with a token result or none.
func writeSuccess(w http.ResponseWriter, f format, res *tokenResult) {
	md := metadata{RequestID: newRequestID(), Status: "success"}
	if f.JSON {
		body := jsonBody{Metadata: md}
		if res != nil {
			body.Result = res
		} else {
			body.Result = struct{}{}
		}
		writeJSON(w, http.StatusOK, f, jsonResponse{Response: body})
		return
	}
	out := xmlResponse{Metadata: md, Result: &xmlResult{res}}
	writeXML(w, http.StatusOK, out)
}

// writeFailure answers a failure with the seed's code and detail; the
// HTTP status is the table's unless apsdb.force200ResponseStatus.
func writeFailure(w http.ResponseWriter, f format, status int, code, detail string) {
	if f.Force200 {
		status = http.StatusOK
	}
	md := metadata{RequestID: newRequestID(), Status: "failure", ErrorCode: code, ErrorDetail: detail}
	if f.JSON {
		writeJSON(w, status, f, jsonResponse{Response: jsonBody{Metadata: md}})
		return
	}
	writeXML(w, status, xmlResponse{Xmlns: xmlns, Metadata: md})
}

func writeJSON(w http.ResponseWriter, status int, f format, v any) {
	b, _ := json.Marshal(v)
	if f.Callback != "" {
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		b = append(append([]byte("/**/"+f.Callback+"("), b...), ')', ';')
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, _ := xml.Marshal(v)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// failure is one answer in the legacy terms.
type failure struct {
	status       int
	code, detail string
}

// toFailure is the one place that maps a parse error or a core fault to
// the seed's code, detail and status. rq gives the values the seed's
// messages repeat.
func toFailure(rq request, err error, log *slog.Logger, r *http.Request) failure {
	if pe, ok := err.(*paramError); ok {
		return failure{http.StatusBadRequest, pe.code, pe.detail}
	}
	fe := fault.As(err)
	if fe == nil {
		fe = fault.Internal(err)
	}
	bad := func(code, detail string) failure { return failure{http.StatusBadRequest, code, detail} }
	switch fe.Code {
	case fault.CodeInternal, fault.CodeUnavailable:
		log.ErrorContext(r.Context(), "apstrata request failed", "err", err, "request_id", reqctx.From(r.Context()).RequestID)
		return failure{http.StatusInternalServerError, codeInternal, "An internal error occurred, please try again"}
	case fault.CodeTooLarge:
		return bad(codeInvalidRequest, "The request is too large")
	case fault.CodeInvalidClient:
		if fe.Field == pTime {
			return bad(codeInvalidSignature, "The parameter ["+pTime+"] is too far from the server's time")
		}
		if fe.Description == "signature already used" {
			return bad(codeInvalidSignature, "The signature was already used")
		}
		return bad(codeInvalidSignature, "The signature is not valid")
	case fault.CodeInvalidToken:
		return bad(codeInvalidSignature, "The token is not valid: "+fe.Description)
	case fault.CodeConflict:
		if fe.Limit != nil && fe.Limit.Name == "token_limit" {
			return bad(codeTooManyTokens, "The total number of tokens must not exceed ["+strconv.FormatInt(fe.Limit.Value, 10)+"]")
		}
	case fault.CodeNotFound:
		if fe.Field == pRunAs {
			return bad(codeInvalidIdentifier, "The identifier ["+rq.RunAs+"] is not a valid device or user identifier")
		}
		return bad(codeInvalidIdentifier, "The identifier is not valid")
	case fault.CodeForbidden:
		return bad(codeInvalidIdentifier, "The identifier is disabled")
	case fault.CodeValidation:
		return limitFailure(rq, fe)
	case fault.CodeInvalidRequest:
		if fe.Field == pRunAs {
			if rq.RunAs == "" {
				return bad(codeInvalidRequest, msgAnonymous)
			}
			return bad(codeInvalidParameter, msgRunAs)
		}
	}
	return bad(codeInvalidRequest, fe.Description)
}

// limitFailure renders the core's expiry and lifetime bounds in the
// seed's seven INVALID_PARAMETER_VALUE messages.
func limitFailure(rq request, fe *fault.Error) failure {
	bad := func(detail string) failure { return failure{http.StatusBadRequest, codeInvalidParameterValue, detail} }
	param := map[string]string{"expires_in": pTokenExpires, "lifetime": pTokenLifetime}[fe.Field]
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch {
	case param == "":
		return bad(fe.Description)
	case fe.Limit == nil:
		return bad("The parameter [" + param + "] can't be a zero or a negative number.")
	case fe.Limit.Name == "max_lifetime" && param == pTokenLifetime:
		return bad("The parameter [apsdb.Lifetime] must be equal to or less than [" + n(fe.Limit.Value) + "]")
	case fe.Limit.Name == "max_access_ttl":
		return bad("The parameter [" + pTokenExpires + "] must be equal to or less than [" + n(fe.Limit.Value) + "]")
	default: // the expiry beyond the lifetime (or the longest one)
		return bad("The parameter [" + pTokenExpires + ": " + n(fe.Limit.Got) + "] must be equal to or less than [" + pTokenLifetime + ": " + n(fe.Limit.Value) + "]")
	}
}
