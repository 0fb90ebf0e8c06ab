package atlas

import "strings"

// WithArticle prefixes word with the English indefinite article its sound
// takes: "an AWS role", "a GCP bucket", "an Azure container", "an
// organization". All-capital words of up to four letters are read letter
// by letter (A-W-S, G-C-P), so the first letter's name decides; other words
// are decided by their first letter being a vowel. No library covers this
// and the words snapex names are a closed set of providers and nouns.
func WithArticle(word string) string {
	return Article(word) + " " + word
}

// Article is "a" or "an" for word (see WithArticle).
func Article(word string) string {
	if word == "" {
		return "a"
	}
	first := word[0]
	if len(word) <= 4 && word == strings.ToUpper(word) {
		// Letter names that begin with a vowel sound: "ay", "ee", "ef",
		// "aitch", "eye", "el", "em", "en", "oh", "ar", "es", "ex".
		if strings.IndexByte("AEFHILMNORSX", first) >= 0 {
			return "an"
		}
		return "a"
	}
	if strings.IndexByte("aeiouAEIOU", first) >= 0 {
		return "an"
	}
	return "a"
}
