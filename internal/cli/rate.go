package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/mattn/go-isatty"
)

func (p Progress) unit() string {
	if p.Unit == "" {
		return "exported"
	}
	return p.Unit
}

// counts renders documents and bytes done of their totals.
func (p Progress) counts() string {
	var b strings.Builder
	b.WriteString(humanize.Comma(p.Documents))
	if p.DocumentsTotal > 0 {
		b.WriteString("/" + humanize.Comma(p.DocumentsTotal))
	}
	b.WriteString(" documents, " + humanize.IBytes(uint64(p.Bytes)))
	if p.BytesTotal > 0 {
		fmt.Fprintf(&b, "/%s (%d%%)", humanize.IBytes(uint64(p.BytesTotal)), p.Bytes*100/p.BytesTotal)
	}
	return b.String()
}

// terminalState reports whether an export or snapshot state is final.
func terminalState(s string) bool {
	switch s {
	case "Successful", "Failed", "Cancelled", "completed", "failed", "cancelled":
		return true
	}
	return false
}

// rateMeter derives a byte rate and an ETA from successive observations:
// the average since the first observation that saw bytes moving.
type rateMeter struct {
	t0    time.Time
	b0    int64
	begun bool
}

// observe records p at now and returns the rate ("2.1 MiB/s") and the
// time left ("" when the total is unknown); ok is false until two
// observations are apart.
func (m *rateMeter) observe(now time.Time, p Progress) (speed, eta string, ok bool) {
	if !m.begun {
		m.t0, m.b0, m.begun = now, p.Bytes, true
		return "", "", false
	}
	dt := now.Sub(m.t0).Seconds()
	if dt <= 0 || p.Bytes <= m.b0 {
		return "", "", false
	}
	r := float64(p.Bytes-m.b0) / dt
	speed = humanize.IBytes(uint64(r)) + "/s"
	if p.BytesTotal > p.Bytes {
		eta = time.Duration(float64(p.BytesTotal-p.Bytes) / r * float64(time.Second)).Round(time.Second).String()
	}
	return speed, eta, true
}

// isTerminal reports whether out is a terminal (where bars redraw).
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
