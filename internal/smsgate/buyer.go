package smsgate

// BuyerCodeSent answers a code request.
type BuyerCodeSent struct {
	Phone     string `json:"phone"`
	ExpiresIn int    `json:"expires_in" doc:"seconds the code is valid"`
	ResendIn  int    `json:"resend_in" doc:"seconds before another code can be sent to this phone"`
}

// BuyerPhone is the phone now bound to the buyer.
type BuyerPhone struct {
	Phone string `json:"phone"`
}

// BuyerSMS is the buyer's SMS preferences.
type BuyerSMS struct {
	Unsubscribed bool `json:"unsubscribed" doc:"true: no marketing SMS (order notices still come)"`
}
