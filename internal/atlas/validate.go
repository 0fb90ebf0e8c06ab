package atlas

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

var clusterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)

// ValidClusterName reports whether name matches Atlas's cluster name rule
// (1–64 characters, letters, digits and hyphens, not starting with a hyphen).
func ValidClusterName(name string) bool {
	return len(name) >= 1 && len(name) <= 64 && clusterNamePattern.MatchString(name)
}

var (
	s3BucketPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	azureBucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	gcsBucketPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)
)

// ValidateBucketName checks name against the provider's bucket (or Azure
// container) naming rules and returns a reason when it does not conform.
func ValidateBucketName(p Provider, name string) error {
	switch p {
	case AWS:
		return validateS3BucketName(name)
	case Azure:
		if !azureBucketPattern.MatchString(name) || strings.Contains(name, "--") {
			return fmt.Errorf("an Azure container name has 3 to 63 lowercase letters, digits and single hyphens, and starts and ends with a letter or digit")
		}
	case GCP:
		return validateGCSBucketName(name)
	default:
		return fmt.Errorf("unknown provider %s", p)
	}
	return nil
}

func validateS3BucketName(name string) error {
	const rule = "an S3 bucket name has 3 to 63 lowercase letters, digits, dots and hyphens, and starts and ends with a letter or digit"
	switch {
	case !s3BucketPattern.MatchString(name):
		return fmt.Errorf("%s", rule)
	case strings.Contains(name, ".."):
		return fmt.Errorf("an S3 bucket name must not contain two adjacent dots")
	case net.ParseIP(name) != nil:
		return fmt.Errorf("an S3 bucket name must not be formatted as an IP address")
	case strings.HasPrefix(name, "xn--"), strings.HasPrefix(name, "sthree-"),
		strings.HasSuffix(name, "-s3alias"), strings.HasSuffix(name, "--ol-s3"):
		return fmt.Errorf("an S3 bucket name must not use the reserved prefixes xn--, sthree- or the suffixes -s3alias, --ol-s3")
	}
	return nil
}

func validateGCSBucketName(name string) error {
	switch {
	case !gcsBucketPattern.MatchString(name):
		return fmt.Errorf("a GCS bucket name has 3 to 222 lowercase letters, digits, dots, hyphens and underscores, and starts and ends with a letter or digit")
	case !strings.Contains(name, ".") && len(name) > 63:
		return fmt.Errorf("a GCS bucket name without dots has at most 63 characters")
	case strings.HasPrefix(name, "goog"), strings.Contains(name, "google"), strings.Contains(name, "g00gle"):
		return fmt.Errorf("a GCS bucket name must not start with goog or contain google")
	case net.ParseIP(name) != nil:
		return fmt.Errorf("a GCS bucket name must not be formatted as an IP address")
	}
	for _, part := range strings.Split(name, ".") {
		if len(part) == 0 || len(part) > 63 {
			return fmt.Errorf("each dot-separated part of a GCS bucket name has 1 to 63 characters")
		}
	}
	return nil
}

// AzureContainerFromServiceURL checks that serviceURL is an https Azure Blob
// URL naming exactly one container and returns that container.
func AzureContainerFromServiceURL(serviceURL string) (string, error) {
	u, err := url.Parse(serviceURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("serviceUrl must be an absolute URL such as https://account.blob.core.windows.net/container")
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("serviceUrl must use https")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("serviceUrl must not carry credentials, a query or a fragment")
	}
	path := strings.Trim(u.Path, "/")
	if path == "" || strings.Contains(path, "/") {
		return "", fmt.Errorf("serviceUrl must name exactly one container after the host, as in https://account.blob.core.windows.net/container")
	}
	return path, nil
}

// ValidateCustomData checks export customData labels; keys and values end up
// in the .complete object, so they must be non-empty, bounded and valid text.
func ValidateCustomData(labels []Label) *Error {
	const maxLabels, maxLen = 50, 1024
	if len(labels) > maxLabels {
		return ErrInvalidAttribute("customData", fmt.Sprintf("%d entries", len(labels)), fmt.Sprintf("at most %d entries are allowed", maxLabels))
	}
	for i, l := range labels {
		field := fmt.Sprintf("customData[%d].key", i)
		if l.Key == "" {
			return ErrMissingAttribute(field)
		}
		if len(l.Key) > maxLen {
			return ErrInvalidAttribute(field, l.Key[:32]+"…", fmt.Sprintf("at most %d bytes are allowed", maxLen))
		}
		if len(l.Value) > maxLen {
			return ErrInvalidAttribute(fmt.Sprintf("customData[%d].value", i), l.Value[:32]+"…", fmt.Sprintf("at most %d bytes are allowed", maxLen))
		}
	}
	return nil
}
