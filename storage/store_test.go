package storage_test

import (
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/storage"
)

// The campaign runner's store is this database.
var _ outbound.Store = (*storage.DB)(nil)
