package imap

import (
	"strconv"
	"strings"
)

// ValueKind says what a Value is.
type ValueKind uint8

// Value kinds.
const (
	// Atom is a bare word: a number, a flag ("\Seen"), a keyword, or a
	// FETCH item name with its section ("BODY[HEADER]<0>").
	Atom ValueKind = iota + 1
	// String is a quoted string or a literal.
	String
	// Nil is NIL.
	Nil
	// List is a parenthesized list.
	List
)

// Value is one element of IMAP response data.
type Value struct {
	Kind ValueKind
	// Str is the atom's text or the string's contents (unescaped).
	Str string
	// Literal reports a String that arrived as a literal.
	Literal bool
	// List holds a list's elements.
	List []Value
}

// Text returns the atom or string contents, "" for NIL and lists.
func (v Value) Text() string {
	if v.Kind == Atom || v.Kind == String {
		return v.Str
	}
	return ""
}

// Number parses an atom as an unsigned 32-bit number.
func (v Value) Number() (uint32, bool) {
	if v.Kind != Atom {
		return 0, false
	}
	n, err := strconv.ParseUint(v.Str, 10, 32)
	return uint32(n), err == nil
}

// ParseValues tokenizes s, taking the contents of each "{n}" literal
// marker from lits in order.
func ParseValues(s string, lits [][]byte) ([]Value, error) {
	p := &valueParser{s: s, lits: lits}
	vals, err := p.list(false)
	if err != nil {
		return nil, err
	}
	return vals, nil
}

type valueParser struct {
	s    string
	i    int
	lits [][]byte
	lit  int
	// depth bounds nesting so that hostile input cannot exhaust the stack.
	depth int
}

const maxDepth = 100

// list parses values until the end of input or, when inList, until ")".
func (p *valueParser) list(inList bool) ([]Value, error) {
	var out []Value
	for {
		for p.i < len(p.s) && p.s[p.i] == ' ' {
			p.i++
		}
		if p.i >= len(p.s) {
			if inList {
				return nil, perr("unbalanced parenthesis in %q", clip(p.s))
			}
			return out, nil
		}
		c := p.s[p.i]
		switch {
		case c == ')':
			if !inList {
				return nil, perr("unexpected \")\" in %q", clip(p.s))
			}
			p.i++
			return out, nil
		case c == '(':
			p.i++
			p.depth++
			if p.depth > maxDepth {
				return nil, perr("lists nested more than %d deep", maxDepth)
			}
			l, err := p.list(true)
			if err != nil {
				return nil, err
			}
			p.depth--
			if l == nil {
				l = []Value{}
			}
			out = append(out, Value{Kind: List, List: l})
		case c == '"':
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		case c == '{' || c == '~' && p.i+1 < len(p.s) && p.s[p.i+1] == '{':
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		default:
			v, err := p.atom()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
}

func (p *valueParser) quoted() (Value, error) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return Value{Kind: String, Str: b.String()}, nil
		case '\\':
			p.i++
			if p.i >= len(p.s) {
				return Value{}, perr("quoted string ends in a backslash")
			}
			c = p.s[p.i]
		}
		b.WriteByte(c)
	}
	return Value{}, perr("unterminated quoted string in %q", clip(p.s))
}

func (p *valueParser) literal() (Value, error) {
	if p.s[p.i] == '~' {
		p.i++
	}
	end := strings.IndexByte(p.s[p.i:], '}')
	if end < 0 {
		return Value{}, perr("unterminated literal marker in %q", clip(p.s))
	}
	p.i += end + 1
	if p.lit >= len(p.lits) {
		return Value{}, perr("literal marker without literal data")
	}
	v := Value{Kind: String, Str: string(p.lits[p.lit]), Literal: true}
	p.lit++
	return v, nil
}

// atom reads a bare word. A "[" inside it runs to the matching "]" (FETCH
// section specs such as BODY[HEADER.FIELDS (SUBJECT)] contain spaces), and
// a "<origin>" partial suffix may follow.
func (p *valueParser) atom() (Value, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ' ' || c == '(' || c == ')' || c == '"' {
			break
		}
		if c == '[' {
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return Value{}, perr("unterminated \"[\" in %q", clip(p.s))
			}
			p.i += end + 1
			if p.i < len(p.s) && p.s[p.i] == '<' {
				if e := strings.IndexByte(p.s[p.i:], '>'); e >= 0 {
					p.i += e + 1
				}
			}
			continue
		}
		p.i++
	}
	a := p.s[start:p.i]
	if strings.EqualFold(a, "NIL") {
		return Value{Kind: Nil}, nil
	}
	return Value{Kind: Atom, Str: a}, nil
}
