package config

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// errMarker is returned by failer so that the TOML decoder reports the
// position of the key it was decoding.
var errMarker = errors.New("config: marker")

// failer fails to decode anything, on purpose.
type failer struct{}

// UnmarshalTOML always fails.
func (failer) UnmarshalTOML(any) error { return errMarker }

// keyLine returns the line of key k in data, or 0 when it cannot be found.
//
// The TOML library records every key's position but does not export it;
// it does put the position into the error of a failing Unmarshaler. So
// the text is decoded a second time into a struct built for this one key,
// whose only leaf always fails, and the line is read from that error.
func keyLine(data []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	t := reflect.TypeOf(failer{})
	for i := len(k) - 1; i >= 0; i-- {
		if strings.ContainsAny(k[i], "\"\\`,") || k[i] == "" || k[i] == "-" {
			return 0 // cannot be written in a struct tag
		}
		t = reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: t,
			Tag:  reflect.StructTag(`toml:` + strconv.Quote(k[i])),
		}})
	}
	v := reflect.New(t)
	_, err := toml.Decode(string(data), v.Interface())
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Message == errMarker.Error() {
		return pe.Position.Line
	}
	return 0
}
