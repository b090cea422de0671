using Lightfast.Cloud.Conversations;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.IntegrationTests.Infrastructure;
using Lightfast.Cloud.Persistence;
using Lightfast.Cloud.Testing;
using Orleans.Storage;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>
/// A conversation outgrowing its grain storage (<c>AzureTableStorage</c>, on Azurite): the call gets
/// <c>STATE_TOO_LARGE</c>, what was stored stays readable, and memory and storage agree.
/// </summary>
[Collection(AzureSiloGroup.Name)]
public sealed class StateLimitTests(AzureSiloFixture fixture)
{
    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;

    [Fact]
    public async Task AConversationPastTheTableLimitFailsItsTurnWithStateTooLargeAndKeepsWhatWasStored()
    {
        var model = $"model-{Guid.NewGuid():N}";
        var answer = new string('a', 150_000);
        var id = Guid.NewGuid().ToString("N");
        var conversation = fixture.Grains.GetGrain<IConversationGrain>(id);
        await conversation.CreateAsync(new ConversationSettings { Model = model, MaxSteps = 1 }, Timeout);

        // Long answers until one cannot be stored (the limit is about 1 MB; an answer is 150,000 characters).
        ConflictException? refused = null;
        var completed = 0;
        while (refused is null && completed < 20)
        {
            fixture.Models.Script(model, ScriptedReply.Say(answer));
            try
            {
                Assert.Equal(TurnStatus.Completed, (await conversation.SendMessageAsync($"message {completed + 1}", Timeout)).Status);
                completed++;
            }
            catch (ConflictException ex)
            {
                refused = ex;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(ErrorCodes.StateTooLarge, refused.Code);
        Assert.Contains($"Conversation '{id}'", refused.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(refused.Details["limit"]));
        Assert.InRange(completed, 2, 19);

        // The turn is recorded as failed, without the step that did not fit; the earlier turns are intact.
        var info = await conversation.GetHistoryAsync(Timeout);
        Assert.Equal(completed + 1, info.Turns.Count);
        Assert.All(info.Turns.Take(completed), turn => Assert.Equal(answer, turn.FinalText));
        var failed = info.Turns[completed];
        Assert.Equal(TurnStatus.Failed, failed.Status);
        Assert.Equal(ErrorCodes.StateTooLarge, failed.Error?.Code);
        Assert.Empty(failed.Steps);
        Assert.False(info.Busy);
        await AssertStoredAsync(conversation, info);

        // A message that cannot even be recorded is refused before the model is asked, and nothing changes.
        var requestsBefore = fixture.Models.Requests(model).Count;
        var big = new string('m', ConversationGrain.MaxMessageLength);
        var refusedAgain = await Assert.ThrowsAsync<ConflictException>(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                fixture.Models.Script(model, ScriptedReply.Say("short"));
                await conversation.SendMessageAsync(big, Timeout);
            }
        });
        Assert.Equal(ErrorCodes.StateTooLarge, refusedAgain.Code);
        var after = await conversation.GetHistoryAsync(Timeout);
        await AssertStoredAsync(conversation, after);
        Assert.All(after.Turns.Skip(completed + 1), turn => Assert.Equal(TurnStatus.Completed, turn.Status));
        Assert.Equal(after.Turns.Count - (completed + 1), fixture.Models.Requests(model).Count - requestsBefore);
    }

    [Fact]
    public async Task AConversationAtItsLimitWithAnInterruptedTurnStaysReadable()
    {
        // Stored as a silo left it when it died mid-turn: the turn still running, and the record so close to the
        // limit that marking the turn interrupted (an error and an end time more) cannot be stored.
        var storage = fixture.Storage("Default");
        var conversation = fixture.Grains.GetGrain<IConversationGrain>(Guid.NewGuid().ToString("N"));
        var startedAt = DateTimeOffset.UtcNow;
        ConversationState Cut(int length) => new()
        {
            Settings = new ConversationSettings { Model = "default-model" },
            CreatedAt = startedAt,
            Turns = [new ConversationTurn { Id = "cut-off", Message = new string('x', length), StartedAt = startedAt, Status = TurnStatus.Running }],
        };

        // The longest message that can still be stored, found by writing (to other keys) until one more character fails.
        var (fits, fails) = (100_000, 2_000_000);
        while (fails - fits > 1)
        {
            var length = fits + ((fails - fits) / 2);
            try
            {
                await storage.WriteStateAsync("conversation", GrainId.Create("conversation", $"probe-{Guid.NewGuid():N}"), new GrainState<ConversationState> { State = Cut(length) });
                fits = length;
            }
            catch (Exception ex) when (StateWrites.SizeLimitOf(ex) is not null)
            {
                fails = length;
            }
        }

        await storage.WriteStateAsync("conversation", conversation.GetGrainId(), new GrainState<ConversationState> { State = Cut(fits) });

        // Activation marks the turn interrupted; it cannot store that, and the conversation is still readable.
        var info = await conversation.GetHistoryAsync(Timeout);
        var turn = Assert.Single(info.Turns);
        Assert.Equal(TurnStatus.Failed, turn.Status);
        Assert.Equal(ErrorCodes.TurnInterrupted, turn.Error?.Code);
        Assert.Equal(fits, turn.Message.Length);
        var stored = new GrainState<ConversationState> { State = new ConversationState() };
        await storage.ReadStateAsync("conversation", conversation.GetGrainId(), stored);
        Assert.Equal(TurnStatus.Running, Assert.Single(stored.State!.Turns).Status);

        // Anything more is refused for its size, and nothing changes.
        var refused = await Assert.ThrowsAsync<ConflictException>(() => conversation.SendMessageAsync("one more", Timeout));
        Assert.Equal(ErrorCodes.StateTooLarge, refused.Code);
        Assert.Single((await conversation.GetHistoryAsync(Timeout)).Turns);
    }

    /// <summary>Storage holds what the grain shows (read with the provider itself, not through the grain).</summary>
    private async Task AssertStoredAsync(IConversationGrain conversation, ConversationInfo shown)
    {
        var stored = new GrainState<ConversationState> { State = new ConversationState() };
        await fixture.Storage("Default").ReadStateAsync("conversation", conversation.GetGrainId(), stored);
        Assert.Equal(shown.Turns.Select(t => (t.Id, t.Status)), stored.State!.Turns.Select(t => (t.Id, t.Status)));
    }
}
