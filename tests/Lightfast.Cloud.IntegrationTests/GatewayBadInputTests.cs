using System.Net;
using System.Text;
using System.Text.Json;
using Lightfast.Cloud.IntegrationTests.Infrastructure;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>Bad input gets a 4xx problem details response with a stable code, never a 500.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class GatewayBadInputTests(GatewayFixture fixture)
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, HttpContent? content, HttpStatusCode status, string code, string? correlationId = null, bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        request.Headers.ExpectContinue = expectContinue;
        if (correlationId is not null)
        {
            request.Headers.Add("X-Correlation-Id", correlationId);
        }

        using var response = await fixture.Http.SendAsync(request, GatewayFixture.Timeout());
        var body = await GatewayFixture.ReadJsonAsync(response);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, body.GetProperty("code").GetString());
        var id = response.Headers.GetValues("X-Correlation-Id").Single();
        Assert.Equal(id, body.GetProperty("correlationId").GetString());
        if (correlationId is not null)
        {
            Assert.Equal(correlationId, id);
        }

        return body;
    }

    [Theory]
    [InlineData("{\"name\":")]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    public async Task MalformedJsonIsA400(string body)
    {
        await SendAsync(HttpMethod.Post, "/api/v1/servers", Json(body), HttpStatusCode.BadRequest, "REQUEST_MALFORMED");
        await SendAsync(HttpMethod.Post, "/api/v1/servers/everything/tools/echo/call", Json(body), HttpStatusCode.BadRequest, "REQUEST_MALFORMED");
    }

    [Fact]
    public async Task AnUnknownServerIsA404()
    {
        await SendAsync(HttpMethod.Get, "/api/v1/servers/no-such-server", null, HttpStatusCode.NotFound, "SERVER_NOT_FOUND");
        await SendAsync(HttpMethod.Post, "/api/v1/servers/no-such-server/tools/echo/call", Json("{}"), HttpStatusCode.NotFound, "SERVER_NOT_FOUND");
        await SendAsync(HttpMethod.Post, "/api/v1/servers/no-such-server/start", null, HttpStatusCode.NotFound, "SERVER_NOT_FOUND");
        await SendAsync(HttpMethod.Delete, "/api/v1/servers/no-such-server", null, HttpStatusCode.NotFound, "SERVER_NOT_FOUND");
        await SendAsync(HttpMethod.Get, "/api/v1/servers/no-such-server/health", null, HttpStatusCode.NotFound, "SERVER_NOT_FOUND");
    }

    [Fact]
    public async Task AnInvalidServerDefinitionIsA400ListingEveryProblemWithItsPath()
    {
        var body = await SendAsync(HttpMethod.Post, "/api/v1/servers", Json("""
            {"name":"Has Spaces","transport":"streamable-http","url":"ftp://example.test","callTimeoutSeconds":0,"args":["x"]}
            """), HttpStatusCode.BadRequest, "VALIDATION_FAILED");

        var errors = body.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("name", errors);
        Assert.Contains("url", errors);
        Assert.Contains("callTimeoutSeconds", errors);
        Assert.Contains("args", errors);

        await SendAsync(HttpMethod.Post, "/api/v1/servers", Json("""{"name":"x","transport":"stdio","comand":"node"}"""), HttpStatusCode.BadRequest, "REQUEST_MALFORMED");
        await SendAsync(HttpMethod.Put, "/api/v1/servers/one-name", Json("""{"name":"another-name","transport":"stdio","command":"node"}"""), HttpStatusCode.BadRequest, "VALIDATION_FAILED");
    }

    [Fact]
    public async Task AddingAServerNameThatIsTakenIsA409()
    {
        await SendAsync(HttpMethod.Post, "/api/v1/servers", Json("""{"name":"everything","transport":"stdio","command":"node"}"""), HttpStatusCode.Conflict, "SERVER_ALREADY_EXISTS");
    }

    [Fact]
    public async Task AnOversizeBodyIsA413()
    {
        var huge = "{\"arguments\":{\"message\":\"" + new string('a', 2 * 1024 * 1024) + "\"}}";
        // Expect: 100-continue lets the gateway refuse on Content-Length before the client sends the body; without
        // it the client may still be writing when the gateway answers 413 and closes the connection (broken pipe).
        await SendAsync(HttpMethod.Post, "/api/v1/servers/everything/tools/echo/call", Json(huge), HttpStatusCode.RequestEntityTooLarge, "REQUEST_TOO_LARGE", expectContinue: true);
    }

    [Fact]
    public async Task AnUnknownRouteIsA404ProblemAndTheCallersCorrelationIdComesBack()
    {
        await SendAsync(HttpMethod.Get, "/api/v1/nothing-here", null, HttpStatusCode.NotFound, "ROUTE_NOT_FOUND", correlationId: "test-correlation-42");
    }

    [Fact]
    public async Task EverySuccessfulResponseCarriesACorrelationId()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/servers", UriKind.Relative));
        request.Headers.Add("X-Correlation-Id", "caller-supplied-id");
        using var response = await fixture.Http.SendAsync(request, GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("caller-supplied-id", response.Headers.GetValues("X-Correlation-Id").Single());

        using var generated = await fixture.Http.GetAsync(new Uri("/api/v1/servers", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Matches("^[0-9a-f]{32}$", generated.Headers.GetValues("X-Correlation-Id").Single());
    }

    [Fact]
    public async Task TheOpenApiDocumentAndHealthEndpointsAreServed()
    {
        using var openApi = await fixture.Http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        var document = await GatewayFixture.ReadJsonAsync(openApi);
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/servers", paths);
        Assert.Contains("/api/v1/servers/{name}/tools/{tool}/call", paths);
        Assert.Contains("/api/v1/tools", paths);
        Assert.Contains("/api/v1/health", paths);

        using var live = await fixture.Http.GetAsync(new Uri("/health/live", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await fixture.Http.GetAsync(new Uri("/health/ready", UriKind.Relative), GatewayFixture.Timeout());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
