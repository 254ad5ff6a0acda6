package labels

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// TextGrid is a Praat TextGrid as read from a text file.
type TextGrid struct {
	// Name is the input's name (the path for ReadTextGrid); errors and
	// Utterance use it.
	Name       string
	XMin, XMax float64 // seconds
	Tiers      []Tier
}

// Tier is one tier of a TextGrid: an IntervalTier with Intervals or a
// TextTier with Points.
type Tier struct {
	Class      string // "IntervalTier" or "TextTier"
	Name       string
	XMin, XMax float64
	Intervals  []Interval
	Points     []Point
	Line       int    // line where the tier starts
	file       string // for errors
}

// Interval is one labelled interval [XMin, XMax) of an IntervalTier.
type Interval struct {
	XMin, XMax float64
	Text       string
	Line       int // line of the interval's xmin
}

// Point is one labelled time of a TextTier.
type Point struct {
	Time float64
	Mark string
	Line int
}

// maxSeconds bounds every time in a TextGrid (about 28 hours), so that
// sample positions fit an int64 with room to spare and a hostile file
// cannot ask for more than 10 M labels.
const maxSeconds = 1e5

// timeSlack is how far (seconds) an interval may start before the previous
// one ends, and stick out of its tier, and still count as touching: writers
// that print times with full float noise (0.30000000000000004) are common.
const timeSlack = 1e-9

// ReadTextGrid reads and parses the TextGrid file at path.
func ReadTextGrid(path string) (*TextGrid, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	return ParseTextGrid(data, path)
}

// ParseTextGrid parses a Praat TextGrid in the text formats Praat writes:
// the long one ("ooTextFile", with "xmin = " and "intervals [1]:" labels,
// as the Montreal Forced Aligner writes) and the short one (values only).
// UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order
// mark are accepted. name is used in errors.
//
// Like Praat, the parser reads the file as a stream of numbers, "strings"
// (a doubled quote is a quote) and <flags>, and skips every other
// white-space separated word and every "!" comment; so both formats read
// the same way. Unlike Praat it rejects trailing values after the last
// tier, intervals or points out of order or overlapping, intervals outside
// their tier, tiers outside the grid and times that are not finite or
// exceed 1e5 s (28 hours).
func ParseTextGrid(data []byte, name string) (*TextGrid, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: ErrTextGrid}
	}
	toks, terr := tokenize(text)
	if terr != nil {
		return nil, &Error{File: name, Line: terr.line, Msg: terr.msg, Err: ErrTextGrid}
	}
	p := &tgParser{name: name, toks: toks}
	tg, err := p.textGrid()
	if err != nil {
		return nil, err
	}
	return tg, nil
}

// decodeText returns data as UTF-8 text, decoding UTF-16 (told by its
// byte-order mark, as Praat writes non-ASCII TextGrids) and dropping a
// UTF-8 byte-order mark.
func decodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		big := data[0] == 0xFE
		data = data[2:]
		if len(data)%2 != 0 {
			return "", fmt.Errorf("UTF-16 text of odd length %d", len(data))
		}
		u := make([]uint16, len(data)/2)
		for i := range u {
			if big {
				u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			} else {
				u[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
			}
		}
		return string(utf16.Decode(u)), nil
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("text is neither UTF-8 nor UTF-16 with a byte-order mark")
	}
	return string(data), nil
}

type tokKind uint8

const (
	tokNumber tokKind = iota + 1
	tokString
	tokFlag
)

func (k tokKind) String() string {
	switch k {
	case tokNumber:
		return "number"
	case tokString:
		return "string"
	case tokFlag:
		return "flag"
	}
	return "end of file"
}

type token struct {
	kind tokKind
	text string
	line int
}

// tokError is a syntax error of the tokenizer, located by ParseTextGrid.
type tokError struct {
	line int
	msg  string
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// tokenize splits Praat text into numbers, strings and flags, skipping
// labels and comments as Praat's text reader does.
func tokenize(s string) ([]token, *tokError) {
	var toks []token
	line := 1
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case isSpace(c):
			i++
		case c == '!': // comment to the end of the line
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"':
			start := line
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, &tokError{start, "string not closed before the end of the file"}
				}
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				if s[i] == '\n' {
					line++
				}
				b.WriteByte(s[i])
				i++
			}
			if i < len(s) && !isSpace(s[i]) {
				return nil, &tokError{line, fmt.Sprintf("character %q after the closing quote of a string", s[i])}
			}
			toks = append(toks, token{tokString, b.String(), start})
		case c == '<':
			j := i + 1
			for j < len(s) && s[j] != '>' && !isSpace(s[j]) {
				j++
			}
			if j >= len(s) || s[j] != '>' {
				return nil, &tokError{line, "flag <...> not closed"}
			}
			toks = append(toks, token{tokFlag, s[i+1 : j], line})
			i = j + 1
		default:
			j := i
			for j < len(s) && !isSpace(s[j]) {
				j++
			}
			if c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') {
				toks = append(toks, token{tokNumber, s[i:j], line})
			} // else a label such as xmin, =, intervals:, [1]: skip it
			i = j
		}
	}
	return toks, nil
}

type tgParser struct {
	name string
	toks []token
	pos  int
	ctx  string // where in the grid we are, for errors
}

func (p *tgParser) errf(line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p.ctx != "" {
		msg = p.ctx + ": " + msg
	}
	return &Error{File: p.name, Line: line, Msg: msg, Err: ErrTextGrid}
}

// line returns the line of the next token, or of the last one at the end.
func (p *tgParser) line() int {
	switch {
	case p.pos < len(p.toks):
		return p.toks[p.pos].line
	case len(p.toks) > 0:
		return p.toks[len(p.toks)-1].line
	}
	return 1
}

func (p *tgParser) next(kind tokKind, what string) (token, error) {
	if p.pos >= len(p.toks) {
		return token{}, p.errf(p.line(), "file ends where %s (a %s) should be", what, kind)
	}
	t := p.toks[p.pos]
	if t.kind != kind {
		return token{}, p.errf(t.line, "found %s %q where %s (a %s) should be", t.kind, t.text, what, kind)
	}
	p.pos++
	return t, nil
}

func (p *tgParser) str(what string) (string, int, error) {
	t, err := p.next(tokString, what)
	return t.text, t.line, err
}

func (p *tgParser) real(what string) (float64, int, error) {
	t, err := p.next(tokNumber, what)
	if err != nil {
		return 0, 0, err
	}
	v, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, t.line, p.errf(t.line, "%s: bad number %q", what, t.text)
	}
	if math.Abs(v) > maxSeconds {
		return 0, t.line, p.errf(t.line, "%s: %g s is out of range (at most %g s)", what, v, float64(maxSeconds))
	}
	return v, t.line, nil
}

// count reads a size that announces items of per tokens each; it may not
// announce more items than the file has tokens left.
func (p *tgParser) count(what string, per int) (int, error) {
	t, err := p.next(tokNumber, what)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 {
		return 0, p.errf(t.line, "%s: bad count %q", what, t.text)
	}
	if left := len(p.toks) - p.pos; n > left/per {
		return 0, p.errf(t.line, "%s: %d announced, but the file holds at most %d", what, n, left/per)
	}
	return n, nil
}

func (p *tgParser) textGrid() (*TextGrid, error) {
	ft, line, err := p.str("file type")
	if err != nil {
		return nil, err
	}
	if ft != "ooTextFile" && ft != "ooTextFile short" {
		return nil, p.errf(line, "file type %q, want \"ooTextFile\"", ft)
	}
	class, line, err := p.str("object class")
	if err != nil {
		return nil, err
	}
	if class != "TextGrid" {
		return nil, p.errf(line, "object class %q, want \"TextGrid\"", class)
	}
	tg := &TextGrid{Name: p.name}
	if tg.XMin, _, err = p.real("xmin"); err != nil {
		return nil, err
	}
	if tg.XMax, line, err = p.real("xmax"); err != nil {
		return nil, err
	}
	if tg.XMax < tg.XMin {
		return nil, p.errf(line, "xmax %g before xmin %g", tg.XMax, tg.XMin)
	}
	flag, err := p.next(tokFlag, "tiers? <exists>")
	if err != nil {
		return nil, err
	}
	switch flag.text {
	case "exists":
	case "absent":
		return tg, p.end()
	default:
		return nil, p.errf(flag.line, "tiers? <%s>, want <exists> or <absent>", flag.text)
	}
	// A tier takes at least 5 tokens: class, name, xmin, xmax, size.
	n, err := p.count("number of tiers", 5)
	if err != nil {
		return nil, err
	}
	if n > 0 { // no tiers is nil, whether <absent> or size 0
		tg.Tiers = make([]Tier, n)
	}
	for i := range tg.Tiers {
		if err := p.tier(tg, i); err != nil {
			return nil, err
		}
	}
	return tg, p.end()
}

func (p *tgParser) end() error {
	p.ctx = ""
	if p.pos < len(p.toks) {
		t := p.toks[p.pos]
		return p.errf(t.line, "unexpected %s %q after the last tier", t.kind, t.text)
	}
	return nil
}

func (p *tgParser) tier(tg *TextGrid, i int) error {
	t := &tg.Tiers[i]
	t.file = p.name
	p.ctx = fmt.Sprintf("tier %d", i+1)
	var err error
	if t.Class, t.Line, err = p.str("tier class"); err != nil {
		return err
	}
	if t.Name, _, err = p.str("tier name"); err != nil {
		return err
	}
	p.ctx = fmt.Sprintf("tier %d %q", i+1, t.Name)
	if t.XMin, _, err = p.real("xmin"); err != nil {
		return err
	}
	xmaxLine := 0
	if t.XMax, xmaxLine, err = p.real("xmax"); err != nil {
		return err
	}
	if t.XMax < t.XMin {
		return p.errf(xmaxLine, "xmax %g before xmin %g", t.XMax, t.XMin)
	}
	if t.XMin < tg.XMin-timeSlack || t.XMax > tg.XMax+timeSlack {
		return p.errf(xmaxLine, "tier [%g, %g] outside the grid [%g, %g]", t.XMin, t.XMax, tg.XMin, tg.XMax)
	}
	switch t.Class {
	case "IntervalTier":
		return p.intervals(t)
	case "TextTier":
		return p.points(t)
	}
	return p.errf(t.Line, "tier class %q, want \"IntervalTier\" or \"TextTier\"", t.Class)
}

func (p *tgParser) intervals(t *Tier) error {
	n, err := p.count("number of intervals", 3)
	if err != nil {
		return err
	}
	t.Intervals = make([]Interval, n)
	ctx := p.ctx
	for k := range t.Intervals {
		iv := &t.Intervals[k]
		p.ctx = fmt.Sprintf("%s interval %d", ctx, k+1)
		if iv.XMin, iv.Line, err = p.real("xmin"); err != nil {
			return err
		}
		line := 0
		if iv.XMax, line, err = p.real("xmax"); err != nil {
			return err
		}
		if iv.Text, _, err = p.str("text"); err != nil {
			return err
		}
		switch {
		case iv.XMax < iv.XMin:
			return p.errf(line, "xmax %g before xmin %g", iv.XMax, iv.XMin)
		case iv.XMin < t.XMin-timeSlack || iv.XMax > t.XMax+timeSlack:
			return p.errf(iv.Line, "interval [%g, %g] outside its tier [%g, %g]", iv.XMin, iv.XMax, t.XMin, t.XMax)
		case k == 0:
		case iv.XMin < t.Intervals[k-1].XMin:
			return p.errf(iv.Line, "intervals out of order: xmin %g before the previous interval's xmin %g", iv.XMin, t.Intervals[k-1].XMin)
		case iv.XMin < t.Intervals[k-1].XMax-timeSlack:
			return p.errf(iv.Line, "interval [%g, %g] overlaps the previous interval [%g, %g]", iv.XMin, iv.XMax, t.Intervals[k-1].XMin, t.Intervals[k-1].XMax)
		}
	}
	p.ctx = ctx
	return nil
}

func (p *tgParser) points(t *Tier) error {
	n, err := p.count("number of points", 2)
	if err != nil {
		return err
	}
	t.Points = make([]Point, n)
	ctx := p.ctx
	for k := range t.Points {
		pt := &t.Points[k]
		p.ctx = fmt.Sprintf("%s point %d", ctx, k+1)
		if pt.Time, pt.Line, err = p.real("number"); err != nil {
			return err
		}
		if pt.Mark, _, err = p.str("mark"); err != nil {
			return err
		}
		switch {
		case pt.Time < t.XMin-timeSlack || pt.Time > t.XMax+timeSlack:
			return p.errf(pt.Line, "point %g outside its tier [%g, %g]", pt.Time, t.XMin, t.XMax)
		case k > 0 && pt.Time < t.Points[k-1].Time:
			return p.errf(pt.Line, "points out of order: %g before the previous point %g", pt.Time, t.Points[k-1].Time)
		}
	}
	p.ctx = ctx
	return nil
}

// Tier returns the tier called name. A missing tier, or a name two tiers
// share, is an error wrapping ErrNoTier.
func (tg *TextGrid) Tier(name string) (*Tier, error) {
	var found *Tier
	for i := range tg.Tiers {
		if tg.Tiers[i].Name != name {
			continue
		}
		if found != nil {
			return nil, &Error{File: tg.Name, Line: tg.Tiers[i].Line, Msg: fmt.Sprintf("two tiers named %q", name), Err: ErrNoTier}
		}
		found = &tg.Tiers[i]
	}
	if found == nil {
		names := make([]string, len(tg.Tiers))
		for i, t := range tg.Tiers {
			names[i] = strconv.Quote(t.Name)
		}
		return nil, &Error{File: tg.Name, Msg: fmt.Sprintf("no tier %q (tiers: %s)", name, strings.Join(names, ", ")), Err: ErrNoTier}
	}
	return found, nil
}

// Samples returns the audio length the grid describes, in 16 kHz samples:
// XMax rounded to the nearest sample (for MFA alignments xmax equals the
// audio length, and xmin is 0).
func (tg *TextGrid) Samples() int { return int(toSamples(tg.XMax)) }

// Utterance returns the utterance id of the grid: the base name of Name
// without its extension ("4088-158077-0001" for
// ".../4088/158077/4088-158077-0001.TextGrid").
func (tg *TextGrid) Utterance() string {
	base := filepath.Base(tg.Name)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// Phones returns the phone labels of the grid's "phones" tier on the
// canonical grid of an utterance of tg.Samples() samples, with the classes
// of PhoneClass; Utt is tg.Utterance(). A missing tier wraps ErrNoTier; an
// unknown phone wraps ErrUnknownSymbol and names the file, the tier, the
// interval and the symbol.
func (tg *TextGrid) Phones() (Seq, error) {
	t, err := tg.Tier(PhoneTier)
	if err != nil {
		return Seq{}, err
	}
	classes, err := t.Grid(tg.Samples(), PhoneClass)
	if err != nil {
		return Seq{}, err
	}
	return Seq{Utt: tg.Utterance(), Classes: classes}, nil
}
