package sampler

import "fmt"

// OptionError is an invalid sampling request: Field names what is wrong (an Options field such
// as "Steps", or "labels" and "classifier" for the arguments and attachments of a call), Value
// its value and Problem the rule it breaks. Programs that expose these under other names (the
// command line's flags) map Field to theirs; the library's messages name only its own API.
type OptionError struct {
	Field   string
	Value   any
	Problem string
	Err     error // the underlying error, if any (errors.Is/As see it)
}

func (e *OptionError) Unwrap() error { return e.Err }

func (e *OptionError) Error() string {
	return fmt.Sprintf("sampler %s = %v: %s", e.Field, e.Value, e.Problem)
}

func optionError(field string, value any, format string, args ...any) error {
	return &OptionError{Field: field, Value: value, Problem: fmt.Sprintf(format, args...)}
}
