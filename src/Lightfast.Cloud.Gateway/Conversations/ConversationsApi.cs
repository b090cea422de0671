using System.Text.Json;
using System.Text.Json.Serialization;
using Lightfast.Cloud.Conversations;
using Lightfast.Cloud.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Lightfast.Cloud.Gateway.Conversations;

/// <summary>The body of <c>POST /api/v1/conversations</c>; every field is optional.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateConversationRequest(
    string? Provider,
    string? Model,
    string? SystemPrompt,
    int? MaxSteps,
    IReadOnlyList<string>? AllowedServers,
    IReadOnlyList<string>? AllowedTools);

/// <summary>The body of a message: <c>{"message": "..."}</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MessageRequest(string? Message);

internal sealed class ConversationsApiServices(IGrainFactory grains, IOptions<JsonOptions> json)
{
    public IGrainFactory Grains { get; } = grains;

    public IOptions<JsonOptions> Json { get; } = json;

    /// <summary>
    /// The grain of a conversation. Ids are GUIDs the gateway made ("N" format); any other id is not found without a
    /// grain being asked: grain keys reach storage, and Azure Tables refuse some characters in keys.
    /// </summary>
    public IConversationGrain Conversation(string id) =>
        Guid.TryParseExact(id, "N", out _) ? Grains.GetGrain<IConversationGrain>(id) : throw NotFoundException.Conversation(id);
}

/// <summary><c>/api/v1/conversations</c>: AI conversations that call the fleet's MCP tools.</summary>
internal static class ConversationsApi
{
    public static RouteGroupBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/conversations").WithTags("Conversations");
        api.MapPost("/", CreateConversation).WithName("CreateConversation");
        api.MapGet("/{id}", GetConversation).WithName("GetConversation").WithSummary("The conversation's history: every turn with its steps.");
        api.MapDelete("/{id}", DeleteConversation).WithName("DeleteConversation");
        api.MapPost("/{id}/messages", SendMessage).WithName("SendMessage").WithSummary("Runs a whole turn and returns it.");
        api.MapPost("/{id}/messages/stream", StreamMessage).WithName("StreamMessage")
            .WithSummary("Runs a turn as Server-Sent Events: step_started, text_delta, tool_call, tool_result, step_completed, turn_completed, error.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return api;
    }

    public static async Task<Created<ConversationInfo>> CreateConversation(CreateConversationRequest? request, [AsParameters] ConversationsApiServices services, CancellationToken cancellationToken)
    {
        var settings = new ConversationSettings
        {
            Provider = request?.Provider,
            Model = request?.Model,
            SystemPrompt = request?.SystemPrompt,
            MaxSteps = request?.MaxSteps ?? ConversationSettings.DefaultMaxSteps,
            AllowedServers = request?.AllowedServers ?? [],
            AllowedTools = request?.AllowedTools ?? [],
        };
        var id = Guid.NewGuid().ToString("N");
        var info = await services.Conversation(id).CreateAsync(settings, cancellationToken);
        return TypedResults.Created($"/api/v1/conversations/{id}", info);
    }

    public static async Task<Ok<ConversationInfo>> GetConversation(string id, [AsParameters] ConversationsApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Conversation(id).GetHistoryAsync(cancellationToken));

    public static async Task<NoContent> DeleteConversation(string id, [AsParameters] ConversationsApiServices services, CancellationToken cancellationToken)
    {
        await services.Conversation(id).DeleteAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<ConversationTurn>> SendMessage(string id, MessageRequest request, [AsParameters] ConversationsApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Conversation(id).SendMessageAsync(request.Message ?? string.Empty, cancellationToken));

    /// <summary>
    /// Streams a turn. Errors known before the first event (unknown conversation, busy, no provider) are problem
    /// details; once the stream has started, an error is an <c>error</c> event. A client that disconnects cancels
    /// the turn: the request's token cancels the grain call, the model call and the tool calls.
    /// </summary>
    public static async Task StreamMessage(string id, MessageRequest request, HttpContext context, [AsParameters] ConversationsApiServices services, CancellationToken cancellationToken)
    {
        var json = services.Json.Value.SerializerOptions;
        var events = services.Conversation(id).StreamMessageAsync(request.Message ?? string.Empty, cancellationToken);
        await using var enumerator = events.GetAsyncEnumerator(cancellationToken);
        var more = await enumerator.MoveNextAsync();

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        TurnEvent? last = null;
        try
        {
            while (more)
            {
                last = enumerator.Current;
                await WriteEventAsync(context.Response, last.Name, last, json, cancellationToken);
                more = await enumerator.MoveNextAsync();
            }
        }
        catch (LightfastException ex) when (last?.Type is not TurnEventType.TurnCompleted and not TurnEventType.Error)
        {
            var error = new TurnEvent { Type = TurnEventType.Error, Error = new TurnError(ex.Code, ex.Message) };
            await WriteEventAsync(context.Response, error.Name, error, json, cancellationToken);
        }
        catch (LightfastException)
        {
            // Already reported to the client by the error and turn_completed events.
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, string name, TurnEvent value, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(value, json)}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
