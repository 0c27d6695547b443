package mx_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mailflow/mailflow/diag/mx"
	"github.com/mailflow/mailflow/diag/mx/mxtest"
)

// TestTagRecords covers the MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460
// §3) TXT records: version matching, duplicates, the required tag, and
// that each problem reaches the picture exactly once.
func TestTagRecords(t *testing.T) {
	s := mxtest.Start(t, `
_mta-sts.ok.test. 300 IN TXT "v=STSv1; id=20240101"
_smtp._tls.ok.test. 300 IN TXT "v=TLSRPTv1 ; rua=mailto:tls@ok.test"
_mta-sts.two.test. 300 IN TXT "v=STSv1; id=1"
_mta-sts.two.test. 300 IN TXT "v=stsv1; id=2"
_smtp._tls.two.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:a@two.test"
_smtp._tls.two.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:b@two.test"
_mta-sts.noid.test. 300 IN TXT "v=STSv1; mode=enforce"
_smtp._tls.noid.test. 300 IN TXT "v=TLSRPTv1"
_mta-sts.other.test. 300 IN TXT "v=STSv10; id=1"
_mta-sts.other.test. 300 IN TXT "unrelated"
_smtp._tls.other.test. 300 IN TXT "v=TLSRPTv1x; rua=mailto:a@other.test"
`)
	tests := []struct {
		domain                 string
		mtaSTS, tlsRPT         string // verdict prefixes
		mtaRecords, rptRecords int
		mtaProblem, rptProblem string
	}{
		{"ok.test", "id=20240101 (policy at https://mta-sts.ok.test/", "rua=mailto:tls@ok.test", 1, 1, "", ""},
		{"two.test", "invalid: more than one record", "invalid: more than one record", 2, 2, "mta_sts_multiple", "tls_rpt_multiple"},
		{"noid.test", "invalid: no id=", "invalid: no rua=", 1, 1, "mta_sts_no_id", "tls_rpt_no_rua"},
		{"other.test", "none", "none", 0, 0, "", ""},
		{"absent.test", "none", "none", 0, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			p, _ := lookup(t, s, tt.domain)
			for _, r := range []struct {
				name    string
				res     mx.TXTResult
				verdict string
				records int
				problem string
			}{
				{"MTA-STS", p.Records.MTASTS, tt.mtaSTS, tt.mtaRecords, tt.mtaProblem},
				{"TLS-RPT", p.Records.TLSRPT, tt.tlsRPT, tt.rptRecords, tt.rptProblem},
			} {
				if !strings.HasPrefix(r.res.Verdict, r.verdict) || len(r.res.Records) != r.records || r.res.Found != (r.records > 0) || r.res.Error != nil {
					t.Errorf("%s = %+v, want verdict %q..., %d records", r.name, r.res, r.verdict, r.records)
				}
				want := 0
				if r.problem != "" {
					want = 1
				}
				if got := len(r.res.Problems); got != want || (want == 1 && r.res.Problems[0].Code != r.problem) {
					t.Errorf("%s problems = %v, want [%s]", r.name, codes(r.res.Problems), r.problem)
				}
				if r.problem != "" {
					if n := len(slices.DeleteFunc(slices.Clone(p.Problems), func(q mx.Problem) bool { return q.Code != r.problem })); n != 1 {
						t.Errorf("%s: problem %s is in the picture %d times, want once: %v", r.name, r.problem, n, codes(p.Problems))
					}
				}
			}
		})
	}
}
