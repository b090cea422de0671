using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lightfast.Cloud.Testing;

/// <summary>One scripted answer of the model.</summary>
public sealed record ScriptedReply
{
    public string? Text { get; init; }

    public IReadOnlyList<(string Name, string Arguments)> ToolCalls { get; init; } = [];

    /// <summary>Answer with this HTTP status (and an error body) instead.</summary>
    public int? FailWith { get; init; }

    /// <summary>Never answer; record that the request was cancelled.</summary>
    public bool Hang { get; init; }

    public static ScriptedReply Say(string text) => new() { Text = text };

    public static ScriptedReply Call(params (string Name, string Arguments)[] calls) => new() { ToolCalls = calls };

    public static ScriptedReply Fail(int status) => new() { FailWith = status };

    public static ScriptedReply Hanging() => new() { Hang = true };
}

/// <summary>
/// A local HTTP server that speaks the OpenAI chat-completions protocol (also under Azure OpenAI's deployment paths) and
/// the Anthropic messages protocol, streaming, with scripted answers, so the real provider clients run end to
/// end. Scripts are kept per model name, so each test uses its own model id.
/// </summary>
public sealed class ScriptedModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ScriptedReply>> _scripts = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<JsonNode>> _requests = new();

    private ScriptedModelServer(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public ConcurrentDictionary<string, bool> Cancelled { get; } = new();

    public static async Task<ScriptedModelServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var server = new ScriptedModelServer(app);
        app.MapPost("/v1/chat/completions", context => server.HandleAsync(context, anthropic: false));
        app.MapPost("/openai/deployments/{deployment}/chat/completions", context => server.HandleAsync(context, anthropic: false));
        app.MapPost("/v1/messages", context => server.HandleAsync(context, anthropic: true));
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return server;
    }

    public void Script(string model, params ScriptedReply[] replies)
    {
        var queue = _scripts.GetOrAdd(model, _ => new ConcurrentQueue<ScriptedReply>());
        foreach (var reply in replies)
        {
            queue.Enqueue(reply);
        }
    }

    public IReadOnlyList<JsonNode> Requests(string model) =>
        _requests.TryGetValue(model, out var requests) ? [.. requests] : [];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, bool anthropic)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!;
        // Azure OpenAI names the deployment in the path instead of the model in the body.
        var model = context.Request.RouteValues["deployment"] as string ?? body["model"]?.GetValue<string>() ?? string.Empty;
        _requests.GetOrAdd(model, _ => new ConcurrentQueue<JsonNode>()).Enqueue(body);
        if (!_scripts.TryGetValue(model, out var queue) || !queue.TryDequeue(out var reply))
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = new { type = "invalid_request_error", message = $"no scripted reply left for model '{model}'" } });
            return;
        }

        if (reply.FailWith is { } status)
        {
            context.Response.StatusCode = status;
            context.Response.Headers["retry-after"] = "0";
            context.Response.Headers["retry-after-ms"] = "10";
            await context.Response.WriteAsJsonAsync(anthropic
                ? new { type = "error", error = new { type = status == 429 ? "rate_limit_error" : "api_error", message = $"scripted {status}" } }
                : (object)new { error = new { type = "server_error", message = $"scripted {status}", code = status.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
            return;
        }

        if (reply.Hang)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Cancelled[model] = true;
            }

            return;
        }

        if (body["stream"]?.GetValue<bool>() != true)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "the scripted server only streams" } });
            return;
        }

        context.Response.ContentType = "text/event-stream";
        if (anthropic)
        {
            await WriteAnthropicAsync(context.Response, model, reply);
        }
        else
        {
            await WriteOpenAIAsync(context.Response, model, reply);
        }
    }

    private static IEnumerable<string> Pieces(string text)
    {
        for (var i = 0; i < text.Length; i += 8)
        {
            yield return text.Substring(i, Math.Min(8, text.Length - i));
        }
    }

    private static async Task WriteOpenAIAsync(HttpResponse response, string model, ScriptedReply reply)
    {
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        async Task Chunk(object choiceDelta, string? finish)
        {
            var chunk = new { id, @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = new[] { new { index = 0, delta = choiceDelta, finish_reason = finish } } };
            await response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n");
            await response.Body.FlushAsync();
        }

        await Chunk(new { role = "assistant", content = "" }, null);
        foreach (var piece in Pieces(reply.Text ?? string.Empty))
        {
            await Chunk(new { content = piece }, null);
        }

        for (var i = 0; i < reply.ToolCalls.Count; i++)
        {
            var (name, arguments) = reply.ToolCalls[i];
            await Chunk(new { tool_calls = new[] { new { index = i, id = $"call_{i}_{Guid.NewGuid():N}"[..20], type = "function", function = new { name, arguments } } } }, null);
        }

        await Chunk(new { }, reply.ToolCalls.Count > 0 ? "tool_calls" : "stop");
        var usage = new { id, @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = Array.Empty<object>(), usage = new { prompt_tokens = 11, completion_tokens = 7, total_tokens = 18 } };
        await response.WriteAsync($"data: {JsonSerializer.Serialize(usage)}\n\ndata: [DONE]\n\n");
    }

    private static async Task WriteAnthropicAsync(HttpResponse response, string model, ScriptedReply reply)
    {
        async Task Event(string name, object data)
        {
            await response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data)}\n\n");
            await response.Body.FlushAsync();
        }

        await Event("message_start", new
        {
            type = "message_start",
            message = new { id = $"msg_{Guid.NewGuid():N}", type = "message", role = "assistant", model, content = Array.Empty<object>(), stop_reason = (string?)null, stop_sequence = (string?)null, usage = new { input_tokens = 11, output_tokens = 1 } },
        });
        var index = 0;
        if (!string.IsNullOrEmpty(reply.Text))
        {
            await Event("content_block_start", new { type = "content_block_start", index, content_block = new { type = "text", text = "" } });
            foreach (var piece in Pieces(reply.Text))
            {
                await Event("content_block_delta", new { type = "content_block_delta", index, delta = new { type = "text_delta", text = piece } });
            }

            await Event("content_block_stop", new { type = "content_block_stop", index });
            index++;
        }

        foreach (var (name, arguments) in reply.ToolCalls)
        {
            await Event("content_block_start", new { type = "content_block_start", index, content_block = new { type = "tool_use", id = $"toolu_{Guid.NewGuid():N}"[..24], name, input = new { } } });
            await Event("content_block_delta", new { type = "content_block_delta", index, delta = new { type = "input_json_delta", partial_json = arguments } });
            await Event("content_block_stop", new { type = "content_block_stop", index });
            index++;
        }

        await Event("message_delta", new { type = "message_delta", delta = new { stop_reason = reply.ToolCalls.Count > 0 ? "tool_use" : "end_turn", stop_sequence = (string?)null }, usage = new { output_tokens = 7 } });
        await Event("message_stop", new { type = "message_stop" });
    }
}
