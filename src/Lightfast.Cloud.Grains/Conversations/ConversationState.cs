namespace Lightfast.Cloud.Conversations;

/// <summary>What a conversation grain persists: its settings and every turn, rewritten after every step.</summary>
[GenerateSerializer]
[Alias("lightfast.ConversationState")]
public sealed class ConversationState
{
    [Id(0)]
    public ConversationSettings? Settings { get; set; }

    [Id(1)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(2)]
    public List<ConversationTurn> Turns { get; set; } = [];
}
