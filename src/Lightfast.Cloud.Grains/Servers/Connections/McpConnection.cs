using ModelContextProtocol.Client;

namespace Lightfast.Cloud.Servers.Connections;

/// <summary>An open MCP client and what was captured around it (the tail of a stdio server's standard error).</summary>
public sealed class McpConnection : IAsyncDisposable
{
    private readonly Queue<string> _standardErrorTail = new();
    private readonly int _maxTailLines;
    private readonly Lock _gate = new();

    public McpConnection(int maxTailLines)
    {
        _maxTailLines = maxTailLines;
    }

    public McpClient Client { get; private set; } = null!;

    /// <summary>The last lines the server wrote to standard error (stdio only).</summary>
    public string StandardErrorTail
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _standardErrorTail);
            }
        }
    }

    internal void Attach(McpClient client) => Client = client;

    internal void AppendStandardError(string line)
    {
        if (_maxTailLines == 0)
        {
            return;
        }

        lock (_gate)
        {
            _standardErrorTail.Enqueue(line);
            while (_standardErrorTail.Count > _maxTailLines)
            {
                _standardErrorTail.Dequeue();
            }
        }
    }

    public ValueTask DisposeAsync() => Client is null ? ValueTask.CompletedTask : Client.DisposeAsync();
}
