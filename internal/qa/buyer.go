package qa

import "time"

// The buyers' types: no member id, staff account, moderation item or
// status of anyone else's post.

// BuyerPost is a comment or question in a lesson's thread.
type BuyerPost struct {
	ID        int64        `json:"id"`
	Kind      string       `json:"kind" enum:"comment,question"`
	Text      string       `json:"text"`
	Author    string       `json:"author" doc:"the learner's nickname"`
	Mine      bool         `json:"mine" doc:"I wrote it"`
	Pending   bool         `json:"pending" doc:"mine and held for review: only I see it until it is approved"`
	Pinned    bool         `json:"pinned"`
	Answered  bool         `json:"answered" doc:"questions: the teacher has replied"`
	Likes     int64        `json:"likes"`
	LikedByMe bool         `json:"liked_by_me"`
	CreatedAt time.Time    `json:"created_at"`
	Replies   []BuyerReply `json:"replies" doc:"pinned first, then oldest first"`
}

// BuyerReply is a reply in a thread, the teacher's marked as such.
type BuyerReply struct {
	ID        int64     `json:"id"`
	Text      string    `json:"text"`
	Author    string    `json:"author" doc:"the learner's nickname, or 老师 for the teacher"`
	Teacher   bool      `json:"teacher" doc:"written by the teacher (staff)"`
	Mine      bool      `json:"mine"`
	Pending   bool      `json:"pending" doc:"mine and held for review"`
	Pinned    bool      `json:"pinned" doc:"a pinned answer"`
	Likes     int64     `json:"likes"`
	LikedByMe bool      `json:"liked_by_me"`
	CreatedAt time.Time `json:"created_at"`
}

// LikeResult is a post's likes after a like or unlike.
type LikeResult struct {
	PostID    int64 `json:"post_id"`
	Likes     int64 `json:"likes"`
	LikedByMe bool  `json:"liked_by_me"`
}

// NewPost is a learner's comment or question.
type NewPost struct {
	Kind string `json:"kind" enum:"comment,question" doc:"comment or question"`
	Text string `json:"text" doc:"1 to 2,000 characters"`
}

// NewReply is a reply's text.
type NewReply struct {
	Text string `json:"text" doc:"1 to 2,000 characters"`
}

// TeacherLabel is the author shown for the teacher's replies.
const TeacherLabel = "老师"
