using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lightfast.Cloud.IntegrationTests.Infrastructure;
using Lightfast.Cloud.Testing;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>Conversations through the gateway process: the real OpenAI and Anthropic clients against the scripted model server, tools on npm server-everything.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class ConversationsApiTests(GatewayFixture fixture)
{
    private HttpClient Http => fixture.Http;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<string> CreateAsync(string model, string provider = "openai")
    {
        using var response = await Http.PostAsync(new Uri("/api/v1/conversations", UriKind.Relative), Json($$"""
            {"provider":"{{provider}}","model":"{{model}}","systemPrompt":"Be brief.","maxSteps":4,"allowedServers":["everything"]}
            """), GatewayFixture.Timeout());
        var body = await GatewayFixture.ReadJsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/conversations/{id}", response.Headers.Location?.OriginalString);
        return id;
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task AConversationCallsServerEverythingOverSeveralStepsAndKeepsItsHistory(string provider)
    {
        var model = $"model-{Guid.NewGuid():N}";
        fixture.ModelServer.Script(
            model,
            ScriptedReply.Call(("everything__echo", """{"message":"from the model"}""")),
            ScriptedReply.Call(("everything__get-sum", """{"a":20,"b":22}""")),
            ScriptedReply.Say("Echoed, and the sum is 42."));
        var id = await CreateAsync(model, provider);

        using var response = await Http.PostAsync(new Uri($"/api/v1/conversations/{id}/messages", UriKind.Relative), Json("""{"message":"Echo, then add."}"""), GatewayFixture.Timeout());
        var turn = await GatewayFixture.ReadJsonAsync(response);

        Assert.True(response.StatusCode == HttpStatusCode.OK, turn.ToString());
        Assert.Equal("completed", turn.GetProperty("status").GetString());
        Assert.Equal("Echoed, and the sum is 42.", turn.GetProperty("finalText").GetString());
        var steps = turn.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(3, steps.Count);
        var echo = steps[0].GetProperty("toolCalls")[0];
        Assert.Equal("everything", echo.GetProperty("server").GetString());
        Assert.Equal("Echo: from the model", echo.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("from the model", echo.GetProperty("arguments").GetProperty("message").GetString());
        Assert.True(turn.GetProperty("usage").GetProperty("totalTokens").GetInt64() > 0);

        var history = await Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/conversations/{id}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(turn.GetProperty("id").GetString(), history.GetProperty("turns")[0].GetProperty("id").GetString());
        Assert.DoesNotContain("test-key-not-secret", history.ToString(), StringComparison.Ordinal);

        using var deleted = await Http.DeleteAsync(new Uri($"/api/v1/conversations/{id}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await Http.GetAsync(new Uri($"/api/v1/conversations/{id}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("CONVERSATION_NOT_FOUND", (await GatewayFixture.ReadJsonAsync(gone)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task AStreamedTurnSendsItsEventsInOrderAsServerSentEvents()
    {
        var model = $"model-{Guid.NewGuid():N}";
        fixture.ModelServer.Script(model, ScriptedReply.Call(("everything__echo", """{"message":"streamed"}""")), ScriptedReply.Say("Here is the streamed answer."));
        var id = await CreateAsync(model);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/api/v1/conversations/{id}/messages/stream", UriKind.Relative)) { Content = Json("""{"message":"Stream it."}""") };
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = await ReadEventsAsync(response);

        var names = events.Select(e => e.Name).ToList();
        Assert.Equal(["step_started", "tool_call", "tool_result", "step_completed", "step_started"], names.Take(5));
        Assert.Equal(["step_completed", "turn_completed"], names.TakeLast(2));
        Assert.All(names.Skip(5).SkipLast(2), n => Assert.Equal("text_delta", n));
        Assert.Equal("Here is the streamed answer.", string.Concat(events.Where(e => e.Name == "text_delta").Select(e => e.Data.GetProperty("text").GetString())));
        Assert.Equal("Echo: streamed", events.Single(e => e.Name == "tool_result").Data.GetProperty("toolCall").GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("completed", events[^1].Data.GetProperty("turn").GetProperty("status").GetString());
    }

    [Fact]
    public async Task AMessageWhileATurnRunsIs409AndAClientThatGoesAwayCancelsTheTurn()
    {
        var model = $"model-{Guid.NewGuid():N}";
        fixture.ModelServer.Script(model, ScriptedReply.Hanging());
        var id = await CreateAsync(model);

        using var cancel = new CancellationTokenSource();
        var first = Http.PostAsync(new Uri($"/api/v1/conversations/{id}/messages/stream", UriKind.Relative), Json("""{"message":"Slowly."}"""), cancel.Token);
        await fixture.WaitUntilAsync(() => Task.FromResult(fixture.ModelServer.Requests(model).Count == 1), "the model to be asked", 30);

        using var busy = await Http.PostAsync(new Uri($"/api/v1/conversations/{id}/messages", UriKind.Relative), Json("""{"message":"Are you there?"}"""), GatewayFixture.Timeout());
        var problem = await GatewayFixture.ReadJsonAsync(busy);
        Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
        Assert.Equal("CONVERSATION_BUSY", problem.GetProperty("code").GetString());

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await fixture.WaitUntilAsync(() => Task.FromResult(fixture.ModelServer.Cancelled.ContainsKey(model)), "the model call to be cancelled", 30);
        await fixture.WaitUntilAsync(async () =>
        {
            var history = await Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/conversations/{id}", UriKind.Relative));
            return history.GetProperty("turns")[0].GetProperty("status").GetString() == "cancelled";
        }, "the turn to be recorded as cancelled", 30);
    }

    [Fact]
    public async Task BadConversationRequestsAreProblems()
    {
        using var unknownProvider = await Http.PostAsync(new Uri("/api/v1/conversations", UriKind.Relative), Json("""{"provider":"nobody","maxSteps":0}"""), GatewayFixture.Timeout());
        var problem = await GatewayFixture.ReadJsonAsync(unknownProvider);
        Assert.Equal(HttpStatusCode.BadRequest, unknownProvider.StatusCode);
        Assert.Equal("VALIDATION_FAILED", problem.GetProperty("code").GetString());

        using var unknown = await Http.PostAsync(new Uri("/api/v1/conversations/nope/messages", UriKind.Relative), Json("""{"message":"hi"}"""), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var id = await CreateAsync($"model-{Guid.NewGuid():N}");
        using var empty = await Http.PostAsync(new Uri($"/api/v1/conversations/{id}/messages/stream", UriKind.Relative), Json("""{"message":""}"""), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal("application/problem+json", empty.Content.Headers.ContentType?.MediaType);
        using var malformed = await Http.PostAsync(new Uri($"/api/v1/conversations/{id}/messages", UriKind.Relative), Json("""{"message":"""), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    private static async Task<List<(string Name, JsonElement Data)>> ReadEventsAsync(HttpResponseMessage response)
    {
        var events = new List<(string, JsonElement)>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name!, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone()));
            }
        }

        return events;
    }
}
