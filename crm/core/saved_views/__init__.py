"""Named list views (filters, sort, columns), private or shared with a team."""
