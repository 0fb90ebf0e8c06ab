package atlas

import "testing"

func TestWithArticle(t *testing.T) {
	for word, want := range map[string]string{
		"AWS": "an AWS", "AZURE": "an AZURE", "Azure": "an Azure", "GCP": "a GCP", "S3": "an S3",
		"GCS": "a GCS", "organization": "an organization", "bucket": "a bucket", "IAM": "an IAM", "": "a ",
	} {
		if got := WithArticle(word); got != want {
			t.Errorf("WithArticle(%q) = %q, want %q", word, got, want)
		}
	}
}
