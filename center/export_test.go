package center

// OnReconciled makes f run on the owner goroutine each time a PBX
// snapshot has been applied (for tests in package center_test).
func (c *Center) OnReconciled(f func()) {
	c.post(func() { c.reconciled = f })
}
