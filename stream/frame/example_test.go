package frame_test

import (
	"errors"
	"fmt"

	"clapp/stream/frame"
)

func Example() {
	b := frame.Block{Stream: "103-1240-0000", Layer: 5, First: 4800, Rows: 1, Cols: 4, Rate: 100, Data: []float32{0.5, -1, 0, 2}}
	subject, _ := frame.BlockSubject("run1", b.Layer)
	h, payload, err := frame.Encode(&b)
	if err != nil {
		panic(err)
	}
	fmt.Println(subject, h[frame.HeaderFirst], h[frame.HeaderRows], h[frame.HeaderCols], h[frame.HeaderRate], len(payload))

	dec := frame.NewDecoder()
	got, err := dec.DecodeMsg(subject, h, payload)
	fmt.Println(got.Stream, got.First, got.Data, err)

	payload[3] = 0x7f // row 0, col 0 becomes NaN
	payload[2] = 0xc0
	_, err = dec.DecodeMsg(subject, h, payload)
	fmt.Println(errors.Is(err, frame.ErrNonFinite), dec.Stats().NonFinite)
	// Output:
	// clapp.run1.layer.5 [4800] [1] [4] [100] 16
	// 103-1240-0000 4800 [0.5 -1 0 2] <nil>
	// true 1
}
