package store_test

import (
	"testing"

	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }
