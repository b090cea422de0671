using Lightfast.Cloud.Conversations;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Lightfast.Cloud.Tests.Infrastructure;

namespace Lightfast.Cloud.Tests.Conversations;

/// <summary>Conversations against the real provider clients (scripted model server) and real MCP servers.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ConversationGrainTests(ClusterFixture fixture)
{
    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private static string NewModel() => $"model-{Guid.NewGuid():N}";

    private async Task<IConversationGrain> CreateAsync(string model, string? provider = null, int maxSteps = 8, string[]? servers = null)
    {
        var conversation = fixture.Grains.GetGrain<IConversationGrain>(Guid.NewGuid().ToString("N"));
        await conversation.CreateAsync(new ConversationSettings
        {
            Provider = provider,
            Model = model,
            SystemPrompt = "You are a test.",
            MaxSteps = maxSteps,
            AllowedServers = servers ?? [ClusterFixture.Everything, ClusterFixture.TestServer],
        }, Timeout);
        return conversation;
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("azure")]
    [InlineData("anthropic")]
    public async Task AConversationUsesToolsOverSeveralStepsWithEachProvider(string provider)
    {
        var model = NewModel();
        fixture.ModelServer.Script(
            model,
            ScriptedReply.Call(("everything__echo", """{"message":"one"}""")),
            ScriptedReply.Call(("everything__get-sum", """{"a":2,"b":3}""")),
            ScriptedReply.Say("The sum is 5."));
        var conversation = await CreateAsync(model, provider);

        var turn = await conversation.SendMessageAsync("Echo one, then add 2 and 3.", Timeout);

        Assert.Equal(TurnStatus.Completed, turn.Status);
        Assert.Equal(3, turn.Steps.Count);
        Assert.Equal("The sum is 5.", turn.FinalText);
        var echo = Assert.Single(turn.Steps[0].ToolCalls);
        Assert.Equal(ClusterFixture.Everything, echo.Server);
        Assert.Equal("echo", echo.Tool);
        Assert.Equal("Echo: one", echo.Result?.Content.Single().Text);
        var sum = Assert.Single(turn.Steps[1].ToolCalls);
        Assert.Contains("5", sum.Result?.Content.Single().Text, StringComparison.Ordinal);
        Assert.True(turn.Usage.TotalTokens > 0);

        // The model saw the tool results: the second request carries the first tool's answer.
        var requests = fixture.ModelServer.Requests(model);
        Assert.Equal(3, requests.Count);
        Assert.Contains("Echo: one", requests[1].ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("everything__echo", requests[0].ToJsonString(), StringComparison.Ordinal);

        var history = await conversation.GetHistoryAsync(Timeout);
        Assert.Equal(turn, history.Turns.Single(), TurnComparer.Instance);
    }

    [Fact]
    public async Task TheToolCallsOfOneStepRunConcurrently()
    {
        var model = NewModel();
        var group = Guid.NewGuid().ToString("N");
        var call = ("test-tools__rendezvous", $$"""{"group":"{{group}}","count":3}""");
        fixture.ModelServer.Script(model, ScriptedReply.Call(call, call, call), ScriptedReply.Say("all met"));
        var conversation = await CreateAsync(model);

        // Each rendezvous call answers only when all three are in flight together.
        var turn = await conversation.SendMessageAsync("Meet.", Timeout);

        Assert.Equal(TurnStatus.Completed, turn.Status);
        var calls = turn.Steps[0].ToolCalls;
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.False(c.Result!.IsError, c.Result.Content.Single().Text));
    }

    [Fact]
    public async Task AFailedToolCallIsAnErrorTheModelSeesNotAFailedTurn()
    {
        var model = NewModel();
        fixture.ModelServer.Script(
            model,
            ScriptedReply.Call(
                ("everything__get-resource-reference", """{"resourceType":"Text","resourceId":-3}"""),
                ("everything__echo", """{"message":42}"""),
                ("nowhere__nothing", "{}")),
            ScriptedReply.Say("Those failed."));
        var conversation = await CreateAsync(model);

        var turn = await conversation.SendMessageAsync("Try things.", Timeout);

        Assert.Equal(TurnStatus.Completed, turn.Status);
        var calls = turn.Steps[0].ToolCalls;
        Assert.True(calls[0].Result!.IsError);
        Assert.Equal(ErrorCodes.ToolInvalidArguments, calls[1].Error?.Code);
        Assert.Equal(ErrorCodes.ToolNotFound, calls[2].Error?.Code);
        var second = fixture.ModelServer.Requests(model)[1].ToJsonString();
        Assert.Contains("TOOL_INVALID_ARGUMENTS", second, StringComparison.Ordinal);
        Assert.Contains("TOOL_NOT_FOUND", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheStepCapEndsTheTurnWithMaxStepsReached()
    {
        var model = NewModel();
        var echo = ("everything__echo", """{"message":"again"}""");
        fixture.ModelServer.Script(model, ScriptedReply.Call(echo), ScriptedReply.Call(echo), ScriptedReply.Call(echo));
        var conversation = await CreateAsync(model, maxSteps: 2);

        var turn = await conversation.SendMessageAsync("Loop.", Timeout);

        Assert.Equal(TurnStatus.MaxStepsReached, turn.Status);
        Assert.Equal(2, turn.Steps.Count);
        Assert.Equal(2, fixture.ModelServer.Requests(model).Count);
    }

    [Fact]
    public async Task StreamedEventsComeInOrder()
    {
        var model = NewModel();
        fixture.ModelServer.Script(model, ScriptedReply.Call(("everything__echo", """{"message":"x"}""")), ScriptedReply.Say("A final answer in pieces."));
        var conversation = await CreateAsync(model);

        var events = new List<TurnEvent>();
        await foreach (var e in conversation.StreamMessageAsync("Go.", Timeout))
        {
            events.Add(e);
        }

        var names = events.Select(e => e.Name).ToList();
        var expectedStart = new[] { "step_started", "tool_call", "tool_result", "step_completed", "step_started" };
        Assert.Equal(expectedStart, names.Take(expectedStart.Length));
        Assert.Equal(["step_completed", "turn_completed"], names.TakeLast(2));
        var deltas = names.Skip(expectedStart.Length).SkipLast(2).ToList();
        Assert.True(deltas.Count > 1, "the answer should arrive in several text_delta events");
        Assert.All(deltas, n => Assert.Equal("text_delta", n));
        Assert.Equal("A final answer in pieces.", string.Concat(events.Where(e => e.Type == TurnEventType.TextDelta).Select(e => e.Text)));
        Assert.Equal(TurnStatus.Completed, events[^1].Turn!.Status);
    }

    [Fact]
    public async Task AMessageSentWhileATurnRunsIsRefusedAndCancellingReachesTheModel()
    {
        var model = NewModel();
        fixture.ModelServer.Script(model, ScriptedReply.Hanging());
        var conversation = await CreateAsync(model);
        using var cancel = new CancellationTokenSource();

        var first = conversation.SendMessageAsync("Take your time.", cancel.Token);
        await Eventually.WaitAsync(() => fixture.ModelServer.Requests(model).Count == 1, "the model to be asked", TimeSpan.FromSeconds(30));

        var busy = await Assert.ThrowsAsync<ConflictException>(() => conversation.SendMessageAsync("Hello?", Timeout));
        Assert.Equal(ErrorCodes.ConversationBusy, busy.Code);
        Assert.True((await conversation.GetHistoryAsync(Timeout)).Busy);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Eventually.WaitAsync(() => fixture.ModelServer.Cancelled.ContainsKey(model), "the model request to be cancelled", TimeSpan.FromSeconds(30));

        var history = await conversation.GetHistoryAsync(Timeout);
        Assert.False(history.Busy);
        Assert.Equal(TurnStatus.Cancelled, history.Turns.Single().Status);
    }

    [Fact]
    public async Task CancellingATurnReachesTheToolCallInFlight()
    {
        var model = NewModel();
        var id = Guid.NewGuid().ToString("N");
        fixture.ModelServer.Script(model, ScriptedReply.Call(("test-tools__sleep", $$"""{"id":"{{id}}","milliseconds":60000}""")));
        var conversation = await CreateAsync(model);
        using var cancel = new CancellationTokenSource();

        var events = new List<string>();
        var stream = Task.Run(async () =>
        {
            await foreach (var e in conversation.StreamMessageAsync("Sleep.", cancel.Token))
            {
                events.Add(e.Name);
                if (e.Type == TurnEventType.ToolCall)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream);
        await Eventually.WaitAsync(() => TestTools.CancelledSleeps.ContainsKey(id), "the tool call to be cancelled at the server", TimeSpan.FromSeconds(30));
        await Eventually.WaitAsync(async () => (await conversation.GetHistoryAsync(Timeout)).Turns.Single().Status == TurnStatus.Cancelled, "the turn to be recorded as cancelled", TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task AProviderAnswering429IsRetriedWithBackoffThenFailsWithAClearCode(string provider)
    {
        var model = NewModel();
        fixture.ModelServer.Script(model, ScriptedReply.Fail(429), ScriptedReply.Fail(429), ScriptedReply.Fail(429));
        var conversation = await CreateAsync(model, provider);

        var error = await Assert.ThrowsAsync<AiProviderException>(() => conversation.SendMessageAsync("Hi.", Timeout));

        Assert.Equal(ErrorCodes.AiProviderRateLimited, error.Code);
        Assert.Equal(ErrorCategory.Unavailable, error.Category);
        Assert.Equal(3, fixture.ModelServer.Requests(model).Count); // one try and two retries
        var turn = (await conversation.GetHistoryAsync(Timeout)).Turns.Single();
        Assert.Equal(TurnStatus.Failed, turn.Status);
        Assert.Equal(ErrorCodes.AiProviderRateLimited, turn.Error?.Code);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task AProviderAnswering500IsRetriedAndTheTurnGoesOnWhenItRecovers(string provider)
    {
        var model = NewModel();
        fixture.ModelServer.Script(model, ScriptedReply.Fail(500), ScriptedReply.Say("Recovered."));
        var conversation = await CreateAsync(model, provider);

        var turn = await conversation.SendMessageAsync("Hi.", Timeout);

        Assert.Equal(TurnStatus.Completed, turn.Status);
        Assert.Equal("Recovered.", turn.FinalText);
        Assert.Equal(2, fixture.ModelServer.Requests(model).Count);
    }

    [Fact]
    public async Task HistorySurvivesDeactivationAndASiloRestart()
    {
        var model = NewModel();
        fixture.ModelServer.Script(model, ScriptedReply.Call(("everything__echo", """{"message":"keep me"}""")), ScriptedReply.Say("Kept."));
        var conversation = await CreateAsync(model);
        var turn = await conversation.SendMessageAsync("Remember this.", Timeout);
        Assert.Equal(TurnStatus.Completed, turn.Status);

        try
        {
            await fixture.Cluster.RestartSiloAsync(fixture.Cluster.Primary!);
            await fixture.Cluster.InitializeClientAsync();
            var restored = fixture.Grains.GetGrain<IConversationGrain>(conversation.GetPrimaryKeyString());
            var history = await restored.GetHistoryAsync(Timeout);

            var kept = Assert.Single(history.Turns);
            Assert.Equal(turn, kept, TurnComparer.Instance);
            Assert.Equal("Echo: keep me", kept.Steps[0].ToolCalls.Single().Result?.Content.Single().Text);
        }
        finally
        {
            // The restart stopped the MCP servers of the shared fixture; bring them back for the other tests.
            await fixture.Grains.GetGrain<IServerRegistryGrain>(IServerRegistryGrain.DefaultKey).StartAllAsync(Timeout);
        }
    }

    [Fact]
    public async Task ConversationsAreValidatedAndMissingOnesAreNotFound()
    {
        var missing = fixture.Grains.GetGrain<IConversationGrain>("no-such-conversation");
        var notFound = await Assert.ThrowsAsync<NotFoundException>(() => missing.SendMessageAsync("hi", Timeout));
        Assert.Equal(ErrorCodes.ConversationNotFound, notFound.Code);

        var invalid = fixture.Grains.GetGrain<IConversationGrain>(Guid.NewGuid().ToString("N"));
        var error = await Assert.ThrowsAsync<ValidationException>(() => invalid.CreateAsync(new ConversationSettings { Provider = "nope", MaxSteps = 0 }, Timeout));
        Assert.Contains(error.Errors, e => e.Path == "provider");
        Assert.Contains(error.Errors, e => e.Path == "maxSteps");

        var conversation = await CreateAsync(NewModel());
        await Assert.ThrowsAsync<ConflictException>(() => conversation.CreateAsync(new ConversationSettings(), Timeout));
        await Assert.ThrowsAsync<ValidationException>(() => conversation.SendMessageAsync(" ", Timeout));
        await conversation.DeleteAsync(Timeout);
        await Assert.ThrowsAsync<NotFoundException>(() => conversation.GetHistoryAsync(Timeout));
    }

    /// <summary>Turns are equal when their ids, status, steps and texts are.</summary>
    private sealed class TurnComparer : IEqualityComparer<ConversationTurn>
    {
        public static readonly TurnComparer Instance = new();

        public bool Equals(ConversationTurn? x, ConversationTurn? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Status == y.Status && x.FinalText == y.FinalText && x.Message == y.Message
            && x.Steps.Count == y.Steps.Count
            && x.Steps.Zip(y.Steps).All(p => p.First.Text == p.Second.Text && p.First.ToolCalls.Select(c => c.Id).SequenceEqual(p.Second.ToolCalls.Select(c => c.Id)));

        public int GetHashCode(ConversationTurn obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
