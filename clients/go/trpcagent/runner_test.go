package trpcagent

// A real trpc-agent-go runner and llmagent, with a scripted model (one tool
// call), over several turns and two users, on the framework's in-memory
// service and on agentstore with the same assertions: what was stored, and
// what a new runner reading the same session sends to its model.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"trpc.group/trpc-go/trpc-agent-go/agent/llmagent"
	"trpc.group/trpc-go/trpc-agent-go/model"
	"trpc.group/trpc-go/trpc-agent-go/runner"
	"trpc.group/trpc-go/trpc-agent-go/session"
	"trpc.group/trpc-go/trpc-agent-go/tool"
	"trpc.group/trpc-go/trpc-agent-go/tool/function"
)

// scriptedModel answers "weather" questions with a get_weather tool call,
// a tool result with a sentence built from it, anything else with an echo.
// It records the messages of every request.
type scriptedModel struct {
	mu       sync.Mutex
	requests [][]model.Message
}

func (m *scriptedModel) Info() model.Info { return model.Info{Name: "scripted"} }

func (m *scriptedModel) GenerateContent(_ context.Context, req *model.Request) (<-chan *model.Response, error) {
	m.mu.Lock()
	m.requests = append(m.requests, append([]model.Message(nil), req.Messages...))
	m.mu.Unlock()
	last := req.Messages[len(req.Messages)-1]
	var msg model.Message
	switch {
	case last.Role == model.RoleTool:
		msg = model.NewAssistantMessage("forecast: " + last.Content)
	case strings.Contains(last.Content, "weather"):
		msg = model.Message{Role: model.RoleAssistant, ToolCalls: []model.ToolCall{{
			Type: "function", ID: "call-1",
			Function: model.FunctionDefinitionParam{Name: "get_weather", Arguments: []byte(`{"city":"Paris"}`)},
		}}}
	default:
		msg = model.NewAssistantMessage("echo: " + last.Content)
	}
	ch := make(chan *model.Response, 1)
	ch <- &model.Response{Object: model.ObjectTypeChatCompletion, Done: true,
		Choices: []model.Choice{{Message: msg}}}
	close(ch)
	return ch, nil
}

func (m *scriptedModel) lastRequest() []model.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[len(m.requests)-1]
}

type weatherIn struct {
	City string `json:"city"`
}
type weatherOut struct {
	Text string `json:"text"`
}

func newRunner(app string, svc session.Service, m model.Model) runner.Runner {
	weather := function.NewFunctionTool(func(_ context.Context, in weatherIn) (weatherOut, error) {
		return weatherOut{Text: "sunny in " + in.City}, nil
	}, function.WithName("get_weather"), function.WithDescription("weather of a city"))
	ag := llmagent.New("assistant", llmagent.WithModel(m), llmagent.WithTools([]tool.Tool{weather}))
	return runner.NewRunner(app, ag, runner.WithSessionService(svc))
}

// turn runs one user message and returns the final assistant text.
func turn(t *testing.T, r runner.Runner, user, sid, text string) string {
	t.Helper()
	ch, err := r.Run(ctx, user, sid, model.NewUserMessage(text))
	if err != nil {
		t.Fatal(err)
	}
	final := ""
	for e := range ch {
		if e.Error != nil {
			t.Fatalf("run error: %s", e.Error.Message)
		}
		if e.Response != nil && len(e.Choices) > 0 && e.Choices[0].Message.Role == model.RoleAssistant &&
			e.Choices[0].Message.Content != "" && !e.IsPartial {
			final = e.Choices[0].Message.Content
		}
	}
	return final
}

// transcript is role:content of the stored events (tool calls by name).
func transcript(sess *session.Session) string {
	var out []string
	for _, e := range sess.Events {
		if e.Response == nil || len(e.Choices) == 0 {
			continue
		}
		msg := e.Choices[0].Message
		switch {
		case len(msg.ToolCalls) > 0:
			out = append(out, fmt.Sprintf("%s:call(%s)", msg.Role, msg.ToolCalls[0].Function.Name))
		default:
			out = append(out, fmt.Sprintf("%s:%s", msg.Role, msg.Content))
		}
	}
	return strings.Join(out, " | ")
}

func TestRunnerWithLLMAgent(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		m1 := &scriptedModel{}
		r1 := newRunner(app, svc, m1)
		if got := turn(t, r1, "alice", "chat", "hello"); got != "echo: hello" {
			t.Fatalf("turn 1: %q", got)
		}
		if got := turn(t, r1, "alice", "chat", "what is the weather?"); got != `forecast: {"text":"sunny in Paris"}` {
			t.Fatalf("turn 2: %q", got)
		}
		if got := turn(t, r1, "bob", "chat", "hi, I am bob"); got != "echo: hi, I am bob" {
			t.Fatalf("bob: %q", got)
		}

		alice, err := svc.GetSession(ctx, session.Key{AppName: app, UserID: "alice", SessionID: "chat"})
		must(t, err)
		want := `user:hello | assistant:echo: hello | user:what is the weather? | assistant:call(get_weather) | ` +
			`tool:{"text":"sunny in Paris"} | assistant:forecast: {"text":"sunny in Paris"}`
		eq(t, "alice's transcript", transcript(alice), want)
		bob, err := svc.GetSession(ctx, session.Key{AppName: app, UserID: "bob", SessionID: "chat"})
		must(t, err)
		eq(t, "bob's transcript", transcript(bob), "user:hi, I am bob | assistant:echo: hi, I am bob")
		list, err := svc.ListSessions(ctx, session.UserKey{AppName: app, UserID: "alice"})
		must(t, err)
		eq(t, "alice's sessions", len(list), 1)

		// A new runner (a new process) continues alice's conversation: its
		// model sees the stored history, bob's conversation not.
		m2 := &scriptedModel{}
		r2 := newRunner(app, svc, m2)
		if got := turn(t, r2, "alice", "chat", "thanks"); got != "echo: thanks" {
			t.Fatalf("turn 3: %q", got)
		}
		var seen []string
		for _, msg := range m2.lastRequest() {
			if msg.Role == model.RoleSystem {
				continue
			}
			if len(msg.ToolCalls) > 0 {
				seen = append(seen, string(msg.Role)+":call")
				continue
			}
			seen = append(seen, string(msg.Role)+":"+msg.Content)
		}
		eq(t, "history sent to the new runner's model", strings.Join(seen, " | "),
			`user:hello | assistant:echo: hello | user:what is the weather? | assistant:call | `+
				`tool:{"text":"sunny in Paris"} | assistant:forecast: {"text":"sunny in Paris"} | user:thanks`)
		alice, err = svc.GetSession(ctx, session.Key{AppName: app, UserID: "alice", SessionID: "chat"})
		must(t, err)
		eq(t, "alice's events after turn 3", len(alice.Events), 8)
	})
}
