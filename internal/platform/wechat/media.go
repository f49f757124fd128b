package wechat

import "context"

// MediaCheckAsync sends an image to WeChat's content check (version 2 of
// media_check_async, media_type 2). mediaURL must be a public HTTPS URL
// WeChat can fetch (at most 10 MB); openid must be a user active in the
// mini program in the last two hours; scene is 1 (profile), 2 (comment),
// 3 (forum) or 4 (social log). The verdict comes later as the
// wxa_media_check push carrying the returned trace id.
func (c *Client) MediaCheckAsync(ctx context.Context, app App, mediaURL, openid string, scene int) (traceID string, err error) {
	var out struct {
		TraceID string `json:"trace_id"`
	}
	body := map[string]any{"media_url": mediaURL, "media_type": 2, "version": 2, "openid": openid, "scene": scene}
	err = c.withToken(ctx, app, func(token string) error {
		return c.call(ctx, tokenRequest(app, token, "/wxa/media_check_async", body), &out)
	})
	return out.TraceID, err
}
