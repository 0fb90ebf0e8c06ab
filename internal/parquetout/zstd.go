package parquetout

import (
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdWindow is the match window of the zstd encoders that compress the
// pages. arrow-go's own zstd codec keeps pooled encoders with the
// library's default 8 MiB window, whose history buffer is 16 MiB per
// encoder, though a page it compresses is about 1 MiB (parquet's default
// data page size): a 1 MiB window compresses those pages the same way
// and its history is 2 MiB. Nothing else differs: same library, same
// levels, frames any zstd decoder reads.
const zstdWindow = 1 << 20

// pageZstd is the zstd codec registered for the process: encoding with
// small-window encoders, everything else (decoding, streams) by arrow-go's
// codec. Codecs are registered in init, as arrow-go prescribes; the only
// Parquet writer of the process is this package.
type pageZstd struct {
	compress.Codec
	pools sync.Map // zstd.EncoderLevel → *sync.Pool of *zstd.Encoder
}

func init() {
	orig, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic("arrow-go has no zstd codec: " + err.Error())
	}
	compress.RegisterCodec(compress.Codecs.Zstd, &pageZstd{Codec: orig})
}

// Encode implements compress.Codec at the default level.
func (z *pageZstd) Encode(dst, src []byte) []byte {
	return z.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

// EncodeLevel implements compress.Codec, level mapping as arrow-go's.
func (z *pageZstd) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	p, ok := z.pools.Load(l)
	if !ok {
		p, _ = z.pools.LoadOrStore(l, &sync.Pool{New: func() any {
			// The options are constants known to be valid.
			enc, _ := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l),
				zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(zstdWindow))
			return enc
		}})
	}
	pool := p.(*sync.Pool)
	enc := pool.Get().(*zstd.Encoder)
	defer pool.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}

// DecodeWithError implements compress.ErrorCodec when arrow-go's codec
// does, so corrupt pages stay errors rather than panics.
func (z *pageZstd) DecodeWithError(dst, src []byte) ([]byte, error) {
	if ec, ok := z.Codec.(compress.ErrorCodec); ok {
		return ec.DecodeWithError(dst, src)
	}
	return z.Codec.Decode(dst, src), nil
}
