using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lightfast.Cloud.IntegrationTests.Infrastructure;
using Lightfast.Cloud.Testing;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>The gateway over real HTTP, against real MCP servers from npm.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class GatewayServersTests(GatewayFixture fixture)
{
    private HttpClient Http => fixture.Http;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> CallAsync(string server, string tool, string body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.PostAsync(new Uri($"/api/v1/servers/{server}/tools/{tool}/call", UriKind.Relative), Json(body), GatewayFixture.Timeout());
        var json = await GatewayFixture.ReadJsonAsync(response);
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {json}");
        return json;
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await GatewayFixture.ReadJsonAsync(response);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("correlationId").GetString()));
        Assert.Equal(body.GetProperty("correlationId").GetString(), response.Headers.GetValues("X-Correlation-Id").Single());
        return body;
    }

    [Fact]
    public async Task StdioServerEverythingListsItsToolsAndAnswersTextImageAndStructuredOutput()
    {
        var tools = await Http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/servers/everything/tools", UriKind.Relative), GatewayFixture.Timeout());
        var names = tools.EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Contains("echo", names);
        Assert.Contains("get-tiny-image", names);
        Assert.Contains("get-structured-content", names);
        Assert.Contains("\"message\"", tools.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "echo").GetProperty("inputSchema").GetProperty("properties").GetRawText(), StringComparison.Ordinal);

        var echo = await CallAsync("everything", "echo", """{"arguments":{"message":"hello from a test"}}""");
        Assert.False(echo.GetProperty("isError").GetBoolean());
        Assert.Equal("Echo: hello from a test", echo.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("text", echo.GetProperty("content")[0].GetProperty("kind").GetString());

        var image = await CallAsync("everything", "get-tiny-image", "{}");
        var picture = image.GetProperty("content").EnumerateArray().Single(c => c.GetProperty("kind").GetString() == "image");
        Assert.Equal("image/png", picture.GetProperty("mimeType").GetString());
        var png = Convert.FromBase64String(picture.GetProperty("data").GetString()!);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        var structured = await CallAsync("everything", "get-structured-content", """{"arguments":{"location":"New York"}}""");
        var output = structured.GetProperty("structuredContent");
        Assert.Equal(JsonValueKind.Object, output.ValueKind);
        Assert.True(output.TryGetProperty("temperature", out _));
    }

    [Fact]
    public async Task AToolThatFailsReturnsIsErrorAndAnUnknownToolOrBadArgumentsAreProblems()
    {
        var failed = await CallAsync("everything", "get-resource-reference", """{"arguments":{"resourceType":"Text","resourceId":-3}}""");
        Assert.True(failed.GetProperty("isError").GetBoolean());
        Assert.Contains("resourceId", failed.GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);

        using var unknown = await Http.PostAsync(new Uri("/api/v1/servers/everything/tools/no-such-tool/call", UriKind.Relative), Json("{}"), GatewayFixture.Timeout());
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "TOOL_NOT_FOUND");

        using var invalid = await Http.PostAsync(new Uri("/api/v1/servers/everything/tools/echo/call", UriKind.Relative), Json("""{"arguments":{"message":42}}"""), GatewayFixture.Timeout());
        var problem = await AssertProblemAsync(invalid, (HttpStatusCode)422, "TOOL_INVALID_ARGUMENTS");
        Assert.Contains("arguments.message", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var notObject = await Http.PostAsync(new Uri("/api/v1/servers/everything/tools/echo/call", UriKind.Relative), Json("""{"arguments":[1]}"""), GatewayFixture.Timeout());
        await AssertProblemAsync(notObject, (HttpStatusCode)422, "TOOL_INVALID_ARGUMENTS");
    }

    [Fact]
    public async Task ServerMemoryFromTheServersFileStoresAndReadsAKnowledgeGraph()
    {
        var entity = $"entity-{Guid.NewGuid():N}";
        var created = await CallAsync("memory", "create_entities", JsonSerializer.Serialize(new
        {
            arguments = new { entities = new[] { new { name = entity, entityType = "test", observations = new[] { "made by an integration test" } } } },
        }));
        Assert.False(created.GetProperty("isError").GetBoolean(), created.ToString());

        var graph = await CallAsync("memory", "read_graph", "{}");
        Assert.Contains(entity, graph.ToString(), StringComparison.Ordinal);

        var info = await Http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/servers/memory", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(["MEMORY_FILE_PATH"], info.GetProperty("envNames").EnumerateArray().Select(e => e.GetString()));
        Assert.False(info.TryGetProperty("env", out _));
        Assert.DoesNotContain("memory.json", info.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("streamable-http")]
    [InlineData("sse")]
    public async Task ServerEverythingOverHttpTransportsIsRegisteredListedAndCalled(string transport)
    {
        var name = $"everything-{transport}-{Guid.NewGuid():N}"[..36];
        var url = transport == "sse" ? fixture.SseUrl : fixture.StreamableHttpUrl;
        using var created = await Http.PostAsync(new Uri("/api/v1/servers", UriKind.Relative), Json($$"""
            {"name":"{{name}}","transport":"{{transport}}","url":"{{url}}","description":"over {{transport}}"}
            """), GatewayFixture.Timeout());
        var info = await GatewayFixture.ReadJsonAsync(created);
        Assert.True(created.StatusCode == HttpStatusCode.Created, info.ToString());
        Assert.Equal($"/api/v1/servers/{name}", created.Headers.Location?.OriginalString);
        Assert.Equal("running", info.GetProperty("status").GetString());
        Assert.Equal(transport, info.GetProperty("transport").GetString());
        Assert.True(info.GetProperty("toolCount").GetInt32() > 5);

        var tools = await Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/servers/{name}/tools", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Contains(tools.EnumerateArray(), t => t.GetProperty("name").GetString() == "echo");

        var echo = await CallAsync(name, "echo", """{"arguments":{"message":"over the wire"}}""");
        Assert.Equal("Echo: over the wire", echo.GetProperty("content")[0].GetProperty("text").GetString());

        var health = await Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/servers/{name}/health", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal("healthy", health.GetProperty("health").GetString());

        using var deleted = await Http.DeleteAsync(new Uri($"/api/v1/servers/{name}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await Http.GetAsync(new Uri($"/api/v1/servers/{name}", UriKind.Relative), GatewayFixture.Timeout());
        await AssertProblemAsync(gone, HttpStatusCode.NotFound, "SERVER_NOT_FOUND");
    }

    [Fact]
    public async Task AServerWhoseCommandDoesNotExistIsInErrorWhileTheGatewayServesTheOthers()
    {
        var name = $"ghost-{Guid.NewGuid():N}"[..20];
        using var created = await Http.PostAsync(new Uri("/api/v1/servers", UriKind.Relative), Json($$"""
            {"name":"{{name}}","transport":"stdio","command":"lightfast-command-that-does-not-exist"}
            """), GatewayFixture.Timeout());
        var info = await GatewayFixture.ReadJsonAsync(created);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("error", info.GetProperty("status").GetString());
        Assert.Equal("SERVER_COMMAND_NOT_FOUND", info.GetProperty("lastError").GetProperty("code").GetString());

        using var start = await Http.PostAsync(new Uri($"/api/v1/servers/{name}/start", UriKind.Relative), null, GatewayFixture.Timeout());
        await AssertProblemAsync(start, HttpStatusCode.BadGateway, "SERVER_COMMAND_NOT_FOUND");

        using var call = await Http.PostAsync(new Uri($"/api/v1/servers/{name}/tools/echo/call", UriKind.Relative), Json("{}"), GatewayFixture.Timeout());
        await AssertProblemAsync(call, HttpStatusCode.ServiceUnavailable, "SERVER_NOT_RUNNING");

        var echo = await CallAsync("everything", "echo", """{"arguments":{"message":"still here"}}""");
        Assert.Equal("Echo: still here", echo.GetProperty("content")[0].GetProperty("text").GetString());

        var health = await Http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/health", UriKind.Relative), GatewayFixture.Timeout());
        var byName = health.EnumerateArray().ToDictionary(h => h.GetProperty("name").GetString()!, h => h.GetProperty("health").GetString());
        Assert.Equal("unhealthy", byName[name]);
        Assert.Equal("healthy", byName["everything"]);
        Assert.Equal("healthy", byName["memory"]);

        using var deleted = await Http.DeleteAsync(new Uri($"/api/v1/servers/{name}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task AStoppedServersProcessEndsAndARestartBringsItBack()
    {
        var name = $"restartable-{Guid.NewGuid():N}"[..24];
        var everything = Repository.NpmServerScript("server-everything");
        var before = ProcessTree.ChildrenOf(fixture.Gateway.Id);
        using var created = await Http.PostAsync(new Uri("/api/v1/servers", UriKind.Relative), Json(JsonSerializer.Serialize(new
        {
            name,
            transport = "stdio",
            command = "node",
            args = new[] { everything, "stdio" },
        })), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var started = ProcessTree.ChildrenOf(fixture.Gateway.Id).Except(before).ToList();
        Assert.Single(started);

        using var stopped = await Http.PostAsync(new Uri($"/api/v1/servers/{name}/stop", UriKind.Relative), null, GatewayFixture.Timeout());
        Assert.Equal("stopped", (await GatewayFixture.ReadJsonAsync(stopped)).GetProperty("status").GetString());
        await fixture.WaitUntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{started[0]}")), "the stopped server's process to end", 15);

        using var refused = await Http.PostAsync(new Uri($"/api/v1/servers/{name}/tools/echo/call", UriKind.Relative), Json("""{"arguments":{"message":"x"}}"""), GatewayFixture.Timeout());
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "SERVER_NOT_RUNNING");

        using var restarted = await Http.PostAsync(new Uri($"/api/v1/servers/{name}/restart", UriKind.Relative), null, GatewayFixture.Timeout());
        Assert.Equal("running", (await GatewayFixture.ReadJsonAsync(restarted)).GetProperty("status").GetString());
        var echo = await CallAsync(name, "echo", """{"arguments":{"message":"back"}}""");
        Assert.Equal("Echo: back", echo.GetProperty("content")[0].GetProperty("text").GetString());

        using var deleted = await Http.DeleteAsync(new Uri($"/api/v1/servers/{name}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task AnHttpServerThatDiesOpensItsCircuitThe503CarriesRetryAfterAndInfoShowsIt()
    {
        var port = Repository.FreePort();
        var loopback = Path.Combine(Repository.McpServersDirectory, "loopback.mjs");
        await using var everything = ChildProcess.Start("node", [loopback, Repository.NpmServerScript("server-everything"), "streamableHttp"], new Dictionary<string, string> { ["PORT"] = $"{port}" });
        await everything.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        var name = $"fragile-{Guid.NewGuid():N}"[..20];
        using (var created = await Http.PostAsync(new Uri("/api/v1/servers", UriKind.Relative), Json($$"""
            {
              "name": "{{name}}",
              "transport": "streamable-http",
              "url": "http://127.0.0.1:{{port}}/mcp",
              "resilience": { "maxRetries": 1, "retryDelaySeconds": 0.1, "circuitMinimumCalls": 3, "circuitFailureRatio": 0.6, "circuitBreakSeconds": 30 }
            }
            """), GatewayFixture.Timeout()))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await CallAsync(name, "echo", """{"arguments":{"message":"before"}}""");
        await everything.DisposeAsync();

        // The attempt and its retry fail (connection refused): 502, and the circuit opens...
        using (var failed = await Http.PostAsync(new Uri($"/api/v1/servers/{name}/tools/echo/call", UriKind.Relative), Json("""{"arguments":{"message":"x"}}"""), GatewayFixture.Timeout()))
        {
            await AssertProblemAsync(failed, HttpStatusCode.BadGateway, "SERVER_CONNECTION_FAILED");
        }

        // ...so the next call is refused at once, saying when to come back.
        using (var refused = await Http.PostAsync(new Uri($"/api/v1/servers/{name}/tools/echo/call", UriKind.Relative), Json("""{"arguments":{"message":"x"}}"""), GatewayFixture.Timeout()))
        {
            var problem = await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "SERVER_UNAVAILABLE");
            var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 30);
            Assert.Equal($"{retryAfter}", problem.GetProperty("details").GetProperty("retryAfterSeconds").GetString());
        }

        var info = await Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/servers/{name}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal("open", info.GetProperty("circuit").GetString());
        Assert.Equal("00:00:30", info.GetProperty("resilience").GetProperty("circuitBreakDuration").GetString());
        Assert.Equal("SERVER_CONNECTION_FAILED", info.GetProperty("lastError").GetProperty("code").GetString());

        using var removed = await Http.DeleteAsync(new Uri($"/api/v1/servers/{name}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
    }

    [Fact]
    public async Task TheToolCatalogQualifiesToolsSoTwoServersWithTheSameToolAreBothReachable()
    {
        var name = $"twin-{Guid.NewGuid():N}"[..20];
        using var created = await Http.PostAsync(new Uri("/api/v1/servers", UriKind.Relative), Json($$"""
            {"name":"{{name}}","transport":"streamable-http","url":"{{fixture.StreamableHttpUrl}}"}
            """), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var catalog = await Http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/tools", UriKind.Relative), GatewayFixture.Timeout());
        var tools = catalog.GetProperty("tools").EnumerateArray().ToList();
        var echoes = tools.Where(t => t.GetProperty("tool").GetString() == "echo").ToDictionary(t => t.GetProperty("server").GetString()!, t => t.GetProperty("qualifiedName").GetString());
        Assert.Equal("everything__echo", echoes["everything"]);
        Assert.Equal($"{name}__echo", echoes[name]);
        Assert.Contains(tools, t => t.GetProperty("qualifiedName").GetString() == "memory__read_graph");
        Assert.All(tools, t => Assert.Matches("^[a-zA-Z0-9_-]{1,64}$", t.GetProperty("qualifiedName").GetString()!));
        Assert.Equal(tools.Count, tools.Select(t => t.GetProperty("qualifiedName").GetString()).Distinct().Count());

        using var deleted = await Http.DeleteAsync(new Uri($"/api/v1/servers/{name}", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }
}
