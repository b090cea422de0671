using System.Reflection;
using Lightfast.Cloud.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Lightfast.Cloud.Servers.Connections;

/// <summary>Opens MCP connections with the SDK's stdio, SSE and streamable HTTP client transports.</summary>
public sealed class McpConnectionFactory(IOptions<McpConnectionOptions> options, ILoggerFactory loggerFactory) : IMcpConnectionFactory
{
    private static readonly string ClientVersion =
        typeof(McpConnectionFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public async Task<McpConnection> ConnectAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var settings = options.Value;
        var connection = new McpConnection(settings.StandardErrorTailLines);
        var transport = CreateTransport(definition, connection, settings);
        var clientOptions = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "lightfast-cloud", Version = ClientVersion },
            ProtocolVersion = settings.ProtocolVersion,
            InitializationTimeout = settings.StartTimeout,
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.StartTimeout);
        try
        {
            connection.Attach(await McpClient.CreateAsync(transport, clientOptions, loggerFactory, timeout.Token));
            return connection;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw StartFailed(definition, connection, $"did not finish initializing within {settings.StartTimeout.TotalSeconds:0.#} s", ex);
        }
        catch (McpProtocolException ex)
        {
            throw StartFailed(definition, connection, $"refused to initialize: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or McpException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            throw definition.Transport == McpTransportKind.Stdio
                ? StartFailed(definition, connection, ex.Message, ex)
                : new ServerException(
                    ErrorCodes.ServerConnectionFailed,
                    ErrorCategory.Upstream,
                    definition.Name,
                    $"Could not connect to MCP server '{definition.Name}' at {definition.Url}: {ex.Message}",
                    ex);
        }
    }

    private IClientTransport CreateTransport(ServerDefinition definition, McpConnection connection, McpConnectionOptions settings)
    {
        switch (definition.Transport)
        {
            case McpTransportKind.Stdio:
                var command = CommandResolver.Resolve(definition.Command!, definition.WorkingDirectory, definition.Env)
                    ?? throw new ServerException(
                        ErrorCodes.ServerCommandNotFound,
                        ErrorCategory.Upstream,
                        definition.Name,
                        $"MCP server '{definition.Name}' cannot start: command '{definition.Command}' was not found{(definition.Command!.Contains('/', StringComparison.Ordinal) ? string.Empty : " on PATH")}.");
                if (definition.WorkingDirectory is { Length: > 0 } directory && !Directory.Exists(directory))
                {
                    throw new ServerException(
                        ErrorCodes.ServerStartFailed,
                        ErrorCategory.Upstream,
                        definition.Name,
                        $"MCP server '{definition.Name}' cannot start: working directory '{directory}' does not exist.");
                }

                return new StdioClientTransport(
                    new StdioClientTransportOptions
                    {
                        Name = definition.Name,
                        Command = command,
                        Arguments = [.. definition.Args],
                        WorkingDirectory = definition.WorkingDirectory,
                        EnvironmentVariables = definition.Env.ToDictionary(pair => pair.Key, pair => (string?)pair.Value, StringComparer.Ordinal),
                        ShutdownTimeout = settings.ShutdownTimeout,
                        StandardErrorLines = connection.AppendStandardError,
                    },
                    loggerFactory);

            case McpTransportKind.Sse:
            case McpTransportKind.StreamableHttp:
                return new HttpClientTransport(
                    new HttpClientTransportOptions
                    {
                        Name = definition.Name,
                        Endpoint = definition.Url!,
                        TransportMode = definition.Transport == McpTransportKind.Sse ? HttpTransportMode.Sse : HttpTransportMode.StreamableHttp,
                        AdditionalHeaders = definition.Headers.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase),
                        ConnectionTimeout = settings.StartTimeout,
                    },
                    loggerFactory);

            default:
                throw new ValidationException("transport", $"unsupported transport {definition.Transport}");
        }
    }

    private static ServerException StartFailed(ServerDefinition definition, McpConnection connection, string reason, Exception inner)
    {
        var tail = connection.StandardErrorTail;
        var exception = new ServerException(
            ErrorCodes.ServerStartFailed,
            ErrorCategory.Upstream,
            definition.Name,
            $"MCP server '{definition.Name}' failed to start: {reason}{(tail.Length > 0 ? $" (stderr: {Truncate(tail, 500)})" : string.Empty)}",
            inner);
        exception.WithDetail("stderr", tail.Length > 0 ? tail : null);
        return exception;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : "…" + text[^max..];
}
