using Orleans.Concurrency;

namespace Lightfast.Cloud.Conversations;

/// <summary>
/// One conversation, keyed by its session id. It holds the turns (messages, steps, tool calls) and runs the
/// agent loop against an AI provider; the model reaches MCP tools only through the server grains. State is
/// persisted after every step. Turns never overlap: a message sent while a turn runs fails with
/// <c>CONVERSATION_BUSY</c>.
/// </summary>
[Alias("lightfast.IConversationGrain")]
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>Creates the conversation (<c>CONVERSATION_ALREADY_EXISTS</c> if it exists).</summary>
    [Alias("create")]
    Task<ConversationInfo> CreateAsync(ConversationSettings settings, CancellationToken cancellationToken = default);

    /// <summary>Runs a whole turn and returns it (status <c>completed</c>, <c>max_steps_reached</c>, <c>failed</c> or <c>cancelled</c>).</summary>
    [Alias("send"), AlwaysInterleave]
    Task<ConversationTurn> SendMessageAsync(string message, CancellationToken cancellationToken = default);

    /// <summary>Runs a turn, streaming its events; cancelling the enumeration cancels the turn.</summary>
    [Alias("stream"), AlwaysInterleave]
    IAsyncEnumerable<TurnEvent> StreamMessageAsync(string message, CancellationToken cancellationToken = default);

    [Alias("history"), AlwaysInterleave, ReadOnly]
    Task<ConversationInfo> GetHistoryAsync(CancellationToken cancellationToken = default);

    /// <summary>Cancels a running turn and forgets the conversation.</summary>
    [Alias("delete"), AlwaysInterleave]
    Task DeleteAsync(CancellationToken cancellationToken = default);
}
