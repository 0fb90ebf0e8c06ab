package atlas

// Pagination bounds of every Atlas list operation.
const (
	DefaultItemsPerPage = 100
	MaxItemsPerPage     = 500
)

// Page selects one page of a list; Number is 1-based.
type Page struct {
	Number       int
	ItemsPerPage int
}

// FirstPage is the page a list request without paging parameters gets.
var FirstPage = Page{Number: 1, ItemsPerPage: DefaultItemsPerPage}

// Offset is the number of items before the page.
func (p Page) Offset() int { return (p.Number - 1) * p.ItemsPerPage }

// Slice returns the page's part of a list of n items as [start, end).
func (p Page) Slice(n int) (start, end int) {
	start = min(p.Offset(), n)
	return start, min(start+p.ItemsPerPage, n)
}
