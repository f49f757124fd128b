package address

import (
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the buyer's address book.
type Handlers struct{ Svc *Service }

var notFound = map[int][]string{404: {"address_not_found"}}

// Routes registers the address book routes.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "mini: addresses"
	inputErrors := map[int][]string{400: {"invalid_phone", "invalid_region"}}
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/addresses", Tag: tag, Access: httpx.Member,
		Summary: "My address book, newest first (is_default marks the default)", Query: httpx.PageParams(),
		Response: httpx.Page[Address]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/addresses", Tag: tag, Access: httpx.Member,
		Errors:  map[int][]string{400: {"invalid_phone", "invalid_region"}, 409: {"address_book_full"}},
		Summary: "Add an address (regions by GB/T 2260 code; the first one is the default)", Request: Input{}, Response: Address{},
		Status: http.StatusCreated, Handler: h.create})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/addresses/wechat", Tag: tag, Access: httpx.Member,
		Errors:  map[int][]string{400: {"invalid_phone", "invalid_region"}, 409: {"address_book_full"}},
		Summary: "Add the address wx.chooseAddress returned (its fields as WeChat names them; region names resolved to codes)",
		Request: WeChatInput{}, Response: Address{}, Status: http.StatusCreated, Handler: h.importWeChat})
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/me/addresses/{id}", Tag: tag, Access: httpx.Member, Errors: notFound,
		Summary: "One of my addresses", Response: Address{}, Handler: h.get})
	api.Add(httpx.Route{Method: "PUT", Path: "/api/v1/me/addresses/{id}", Tag: tag, Access: httpx.Member,
		Errors:  map[int][]string{400: inputErrors[400], 404: notFound[404]},
		Summary: "Replace one of my addresses", Request: Input{}, Response: Address{}, Handler: h.update})
	api.Add(httpx.Route{Method: "POST", Path: "/api/v1/me/addresses/{id}/default", Tag: tag, Access: httpx.Member, Errors: notFound,
		Summary: "Make one of my addresses the default", Response: Address{}, Handler: h.setDefault})
	api.Add(httpx.Route{Method: "DELETE", Path: "/api/v1/me/addresses/{id}", Tag: tag, Access: httpx.Member, Errors: notFound,
		Summary: "Delete one of my addresses (the newest other one becomes the default if it was)", Status: http.StatusNoContent, Handler: h.delete})
}

func member(r *http.Request) auth.Member {
	m, _ := auth.MemberFrom(r.Context())
	return m
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	m := member(r)
	list, err := h.Svc.List(r.Context(), m.ShopID, m.ID, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(a Address) int64 { return a.ID }), err)
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in Input
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	a, err := h.Svc.Create(r.Context(), m.ShopID, m.ID, in)
	return httpx.Respond(w, http.StatusCreated, a, err)
}

func (h *Handlers) importWeChat(w http.ResponseWriter, r *http.Request) error {
	var in WeChatInput
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	book, err := FromWeChat(in)
	if err != nil {
		return err
	}
	m := member(r)
	a, err := h.Svc.Create(r.Context(), m.ShopID, m.ID, book)
	return httpx.Respond(w, http.StatusCreated, a, err)
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	a, err := h.Svc.Get(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, a, err)
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in Input
	if err := httpx.Decode(w, r, &in, 0); err != nil {
		return err
	}
	m := member(r)
	a, err := h.Svc.Update(r.Context(), m.ShopID, m.ID, id, in)
	return httpx.Respond(w, http.StatusOK, a, err)
}

func (h *Handlers) setDefault(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	a, err := h.Svc.SetDefault(r.Context(), m.ShopID, m.ID, id)
	return httpx.Respond(w, http.StatusOK, a, err)
}

func (h *Handlers) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	m := member(r)
	if err := h.Svc.Delete(r.Context(), m.ShopID, m.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
