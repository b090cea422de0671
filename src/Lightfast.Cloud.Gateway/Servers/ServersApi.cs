using System.Text.Json;
using System.Text.Json.Serialization;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Servers.Configuration;
using Lightfast.Cloud.Tools;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lightfast.Cloud.Gateway.Servers;

/// <summary>The body of a tool call: <c>{"arguments": {...}}</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ToolCallRequest(JsonElement? Arguments);

/// <summary>What the servers endpoints need.</summary>
internal sealed class ServersApiServices(IGrainFactory grains)
{
    public IGrainFactory Grains { get; } = grains;

    public IServerRegistryGrain Registry() => Grains.GetGrain<IServerRegistryGrain>(IServerRegistryGrain.DefaultKey);

    /// <summary>
    /// The grain of a server. A name no server can have is not found without a grain being asked: grain keys reach
    /// storage, and Azure Tables refuse some characters (control characters) in keys.
    /// </summary>
    public IMcpServerGrain Server(string name) =>
        ServerSpecValidator.IsValidName(name) ? Grains.GetGrain<IMcpServerGrain>(name) : throw NotFoundException.Server(name);
}

/// <summary><c>/api/v1/servers</c>: register, inspect, start and stop MCP servers; list and call their tools.</summary>
internal static class ServersApi
{
    public static RouteGroupBuilder MapServersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/tools", GetToolCatalog).WithName("GetToolCatalog").WithTags("Tools")
            .WithSummary("The tools of every running server under their qualified names (server__tool).");
        app.MapGet("/api/v1/health", GetAllHealth).WithName("GetAllHealth").WithTags("Servers")
            .WithSummary("Health of every server: one result per server.");

        var api = app.MapGroup("/api/v1/servers").WithTags("Servers");
        api.MapGet("/", ListServers).WithName("ListServers");
        api.MapPost("/", AddServer).WithName("AddServer").WithSummary("Registers a server and starts it when enabled.");
        api.MapPost("/start-all", StartAll).WithName("StartAllServers");
        api.MapPost("/stop-all", StopAll).WithName("StopAllServers");
        api.MapGet("/{name}", GetServer).WithName("GetServer");
        api.MapPut("/{name}", PutServer).WithName("PutServer").WithSummary("Creates or replaces a server.");
        api.MapDelete("/{name}", DeleteServer).WithName("DeleteServer");
        api.MapPost("/{name}/start", StartServer).WithName("StartServer");
        api.MapPost("/{name}/stop", StopServer).WithName("StopServer");
        api.MapPost("/{name}/restart", RestartServer).WithName("RestartServer");
        api.MapGet("/{name}/health", GetServerHealth).WithName("GetServerHealth");
        api.MapGet("/{name}/tools", ListServerTools).WithName("ListServerTools");
        api.MapPost("/{name}/tools/{tool}/call", CallTool).WithName("CallTool").WithSummary("Calls a tool with {\"arguments\": {...}}.");
        return api;
    }

    public static async Task<Ok<IReadOnlyList<ServerInfo>>> ListServers([AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Registry().ListServersAsync(cancellationToken));

    public static async Task<Created<ServerInfo>> AddServer(ServerSpec spec, [AsParameters] ServersApiServices services, CancellationToken cancellationToken)
    {
        var definition = ToDefinition(spec);
        var info = await services.Registry().AddServerAsync(definition, cancellationToken);
        return TypedResults.Created($"/api/v1/servers/{info.Name}", info);
    }

    public static async Task<Results<Ok<ServerInfo>, Created<ServerInfo>>> PutServer(string name, ServerSpec spec, [AsParameters] ServersApiServices services, CancellationToken cancellationToken)
    {
        if (spec.Name is not null && !string.Equals(spec.Name, name, StringComparison.Ordinal))
        {
            throw new ValidationException("name", $"'{spec.Name}' does not match the server in the URL ('{name}')");
        }

        spec.Name = name;
        var result = await services.Registry().PutServerAsync(ToDefinition(spec), cancellationToken);
        return result.Created
            ? TypedResults.Created($"/api/v1/servers/{name}", result.Server)
            : TypedResults.Ok(result.Server);
    }

    public static async Task<Ok<ServerInfo>> GetServer(string name, [AsParameters] ServersApiServices services) =>
        TypedResults.Ok(await services.Server(name).GetInfoAsync() ?? throw NotFoundException.Server(name));

    public static async Task<NoContent> DeleteServer(string name, [AsParameters] ServersApiServices services, CancellationToken cancellationToken)
    {
        await services.Registry().RemoveServerAsync(name, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<ServerInfo>> StartServer(string name, [AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Server(name).StartAsync(cancellationToken));

    public static async Task<Ok<ServerInfo>> StopServer(string name, [AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Server(name).StopAsync(cancellationToken));

    public static async Task<Ok<ServerInfo>> RestartServer(string name, [AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Server(name).RestartAsync(cancellationToken));

    public static async Task<Ok<ServerHealth>> GetServerHealth(string name, [AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Server(name).CheckHealthAsync(cancellationToken));

    public static async Task<Ok<IReadOnlyList<ToolDescriptor>>> ListServerTools(string name, [AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Server(name).ListToolsAsync(cancellationToken));

    public static async Task<Ok<ToolCallResult>> CallTool(string name, string tool, ToolCallRequest? request, [AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Server(name).CallToolAsync(tool, request?.Arguments?.GetRawText(), cancellationToken));

    public static async Task<Ok<IReadOnlyList<ServerOperationResult>>> StartAll([AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Registry().StartAllAsync(cancellationToken));

    public static async Task<Ok<IReadOnlyList<ServerOperationResult>>> StopAll([AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Registry().StopAllAsync(cancellationToken));

    public static async Task<Ok<ToolCatalog>> GetToolCatalog([AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Registry().GetToolCatalogAsync(cancellationToken));

    public static async Task<Ok<IReadOnlyList<ServerHealth>>> GetAllHealth([AsParameters] ServersApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Registry().GetHealthAsync(cancellationToken));

    private static ServerDefinition ToDefinition(ServerSpec spec)
    {
        var errors = new List<ValidationError>();
        return ServerSpecValidator.ToDefinition(spec, string.Empty, errors) ?? throw new ValidationException(errors);
    }
}
