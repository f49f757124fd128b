package order

import "time"

// SetOrderNumbers replaces the order-number generator until restore is called.
func SetOrderNumbers(fn func(time.Time) string) (restore func()) {
	old := orderNumber
	orderNumber = fn
	return func() { orderNumber = old }
}
