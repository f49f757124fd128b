// Package wechatpay is a client for WeChat Pay API v3
// (https://api.mch.weixin.qq.com) written on the standard library: JSAPI
// prepay and wx.requestPayment parameters, order query and close, refunds,
// the daily trade bill, and verification and decryption of payment and
// refund notifications.
//
// Every request is signed with the merchant key (SHA256withRSA over
// METHOD, path+query, timestamp, nonce and the exact body bytes sent), and
// every 2xx response must carry a valid WeChat signature, checked by a
// Verifier that knows the platform certificates and/or the WeChat Pay
// public key. Responses with another status become an *APIError and are
// not verified, as in the official SDK.
//
// The package never puts the merchant private key or the APIv3 key into an
// error message, and Merchant prints without them.
package wechatpay
