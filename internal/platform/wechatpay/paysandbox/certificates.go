package paysandbox

import (
	"context"
	"net/http"
)

// certificateEntry is one element of GET /v3/certificates: a platform
// certificate sealed with the calling merchant's APIv3 key.
type certificateEntry struct {
	SerialNo           string             `json:"serial_no"`
	EffectiveTime      string             `json:"effective_time"`
	ExpireTime         string             `json:"expire_time"`
	EncryptCertificate encryptCertificate `json:"encrypt_certificate"`
}

type encryptCertificate struct {
	Algorithm      string `json:"algorithm"`
	Nonce          string `json:"nonce"`
	AssociatedData string `json:"associated_data"`
	Ciphertext     string `json:"ciphertext"`
}

// certificatesAAD is the associated data WeChat seals certificates with.
const certificatesAAD = "certificate"

// certificates answers GET /v3/certificates as WeChat does: every platform
// certificate still valid (the signing one first), each PEM encrypted with
// AEAD_AES_256_GCM under the merchant's APIv3 key, AAD "certificate"; the
// response is signed like any other.
func (s *Sandbox) certificates(c *apiCall) result {
	var data []certificateEntry
	for _, cert := range s.keys.listed(s.now()) {
		res, err := seal(c.mch.apiV3Key, certificatesAAD, []byte(cert.pem))
		if err != nil {
			return apiError(http.StatusInternalServerError, "SYSTEM_ERROR", err.Error())
		}
		data = append(data, certificateEntry{
			SerialNo: cert.serial, EffectiveTime: wxTime(cert.notBefore), ExpireTime: wxTime(cert.notAfter),
			EncryptCertificate: encryptCertificate{Algorithm: res.Algorithm, Nonce: res.Nonce,
				AssociatedData: res.AssociatedData, Ciphertext: res.Ciphertext},
		})
	}
	return result{http.StatusOK, reply{"data": data}}
}

// RotatePlatformCertificate issues a new platform certificate, which signs
// from now on in KeyModeCertificate; the old one stays listed by
// GET /v3/certificates until it expires. It returns the new Platform.
func (s *Sandbox) RotatePlatformCertificate() (Platform, error) {
	next, err := newPlatformCert(s.now())
	if err != nil {
		return Platform{}, err
	}
	s.keys.rotate(next)
	return s.Platform(), nil
}

func (s *Sandbox) ctlRotatePlatformCert(context.Context, []byte) (any, error) {
	return s.RotatePlatformCertificate()
}
