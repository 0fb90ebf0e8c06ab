package ejson

import (
	"math"
	"math/bits"
	"strconv"
)

func appendInt(dst []byte, i int64) []byte { return strconv.AppendInt(dst, i, 10) }

func appendUint(dst []byte, u uint64) []byte { return strconv.AppendUint(dst, u, 10) }

// appendDouble appends the text the driver uses inside $numberDouble:
// "NaN", "Infinity", "-Infinity", or the shortest representation that
// round-trips in Go's 'G' format (exponent form "1E+21" from 1e6 upward and
// below 1e-4), with ".0" added when that has neither a '.' nor an 'E'.
func appendDouble(dst []byte, fbits uint64) []byte {
	f := math.Float64frombits(fbits)
	// Fast path: integers of magnitude below 1e6 ('G' prints them as plain
	// digits), but not -0, which must keep its sign.
	if f > -1e6 && f < 1e6 && fbits != 1<<63 {
		if i := int64(f); float64(i) == f {
			dst = strconv.AppendInt(dst, i, 10)
			return append(dst, '.', '0')
		}
		// Fast path: at most four decimals (prices, percentages). If
		// m/10^4 converts back to exactly f, that decimal is the shortest
		// representation: f's rounding interval (width below 1e-9 here) can
		// hold no other number with four or fewer decimals. 'G' prints it
		// in plain notation because 1e-4 <= |f| < 1e6.
		if m := int64(math.Round(f * 1e4)); float64(m)/1e4 == f {
			return appendFixed4(dst, m)
		}
	}
	switch {
	case f != f:
		return append(dst, "NaN"...)
	case f > math.MaxFloat64:
		return append(dst, "Infinity"...)
	case f < -math.MaxFloat64:
		return append(dst, "-Infinity"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'G', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'E' {
			return dst
		}
	}
	return append(dst, '.', '0')
}

// appendFixed4 appends m/10^4 (m not a multiple of 10^4, |m| < 10^10) with
// trailing zeros of the fraction removed.
func appendFixed4(dst []byte, m int64) []byte {
	if m < 0 {
		dst = append(dst, '-')
		m = -m
	}
	dst = strconv.AppendInt(dst, m/10000, 10)
	frac := m % 10000
	digits := [5]byte{'.', byte('0' + frac/1000), byte('0' + frac/100%10), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	return append(dst, digits[:n]...)
}

// appendDecimal128 appends the text the driver uses inside $numberDecimal
// for the IEEE 754-2008 decimal128 value with high and low 64-bit halves hi
// and lo (BID encoding, as stored in BSON).
//
// The format is the one of the BSON decimal128 specification: plain
// notation ("123.45", "0.000001", "-0.00") when the exponent is not positive
// and the adjusted exponent (exponent + digits - 1) is at least -6,
// otherwise scientific notation ("1.2345E+5", "1E-7", "0E+3"). Like the
// driver, a coefficient in the "11" combination form (beyond the maximum) is
// zero with its exponent kept, while a too-large coefficient in the normal
// form (10^34 up to 2^113-1) is printed with all its digits.
func appendDecimal128(dst []byte, hi, lo uint64) []byte {
	neg := hi>>63 != 0
	switch (hi >> 58) & 0x1F {
	case 0x1F:
		return append(dst, "NaN"...)
	case 0x1E:
		if neg {
			return append(dst, "-Infinity"...)
		}
		return append(dst, "Infinity"...)
	}

	const bias = 6176
	var exp int
	var chi, clo uint64
	if (hi>>61)&3 == 3 {
		exp = int((hi>>47)&0x3FFF) - bias
	} else {
		exp = int((hi>>49)&0x3FFF) - bias
		chi, clo = hi&(1<<49-1), lo
	}

	var buf [40]byte // the coefficient is below 2^113 < 10^35
	digits := coefficientDigits(&buf, chi, clo)
	n := len(digits)

	if neg {
		dst = append(dst, '-')
	}
	adjusted := exp + n - 1
	if exp > 0 || adjusted < -6 {
		dst = append(dst, digits[0])
		if n > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'E')
		if adjusted > 0 {
			dst = append(dst, '+')
		}
		return strconv.AppendInt(dst, int64(adjusted), 10)
	}
	if exp == 0 {
		return append(dst, digits...)
	}
	frac := -exp // digits after the decimal point, 1..40 here
	if n > frac {
		dst = append(dst, digits[:n-frac]...)
		dst = append(dst, '.')
		return append(dst, digits[n-frac:]...)
	}
	dst = append(dst, '0', '.')
	for range frac - n {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

// coefficientDigits writes the decimal digits of the 113-bit value hi:lo
// (hi < 2^49) at the end of buf and returns them.
func coefficientDigits(buf *[40]byte, hi, lo uint64) []byte {
	const e19 = 10_000_000_000_000_000_000 // fits in uint64, > 2^49
	i := len(buf)
	if hi != 0 {
		// hi < e19, so the quotient fits in 64 bits.
		q, r := bits.Div64(hi, lo, e19)
		for range 19 {
			i--
			buf[i] = byte('0' + r%10)
			r /= 10
		}
		lo = q
	}
	for {
		i--
		buf[i] = byte('0' + lo%10)
		lo /= 10
		if lo == 0 {
			break
		}
	}
	return buf[i:]
}
