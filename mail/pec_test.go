package mail

import (
	"net/textproto"
	"os"
	"path/filepath"
	"testing"

	gomail "net/mail"
)

// The shared fixtures are real-format PEC messages (see ../shared/PEC.md).
func TestClassifyPECFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "fixtures", "pec")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("PEC fixtures missing at %s: %v", dir, err)
	}
	cases := map[string]string{
		"01-posta-certificata.eml": PECEnvelope,
		"02-accettazione.eml":      PECAcceptance,
		"03-avvenuta-consegna.eml": PECDelivery,
		"04-errore-consegna.eml":   PECDeliveryError,
	}
	for file, want := range cases {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := gomail.ReadMessage(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		kind, ref := ClassifyPEC(msg.Header.Get)
		if kind != want {
			t.Errorf("%s: kind %q, want %q", file, kind, want)
		}
		if ref != "20250312101500.4f2a9c@client.example-pec.it" {
			t.Errorf("%s: ref %q", file, ref)
		}
	}
}

func TestClassifyPECTolerance(t *testing.T) {
	h := textproto.MIMEHeader{}
	h.Set("X-Ricevuta", "  Avvenuta-Consegna ")
	h.Set("X-Riferimento-Message-ID", " <abc@x> ")
	if kind, ref := ClassifyPEC(h.Get); kind != PECDelivery || ref != "abc@x" {
		t.Fatalf("got %q %q", kind, ref)
	}
	if kind, _ := ClassifyPEC(textproto.MIMEHeader{}.Get); kind != "" {
		t.Fatalf("ordinary mail classified as %q", kind)
	}
	h = textproto.MIMEHeader{}
	h.Set("X-Trasporto", "errore")
	if kind, _ := ClassifyPEC(h.Get); kind != PECAnomaly {
		t.Fatalf("anomaly: %q", kind)
	}
}

func TestHeaderText(t *testing.T) {
	for in, want := range map[string]string{
		"=?UTF-8?B?UGVyY2jDqQ==?=":        "Perché",
		"=?ISO-8859-1?Q?Preventivo_=E0?=": "Preventivo à",
		"Caff\xe8 pronto":                 "Caffè pronto",
		"plain":                           "plain",
		"=?x-unknown?Q?abc?=":             "=?x-unknown?Q?abc?=",
	} {
		if got := HeaderText(in); got != want {
			t.Errorf("HeaderText(%q) = %q, want %q", in, got, want)
		}
	}
}
