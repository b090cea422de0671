namespace Lightfast.Cloud.Servers.Resilience;

/// <summary>
/// At most <c>max</c> restarts within a sliding <c>window</c> (like systemd's start limit): a server that keeps
/// crashing stops being restarted, one that crashed once a day is always restarted.
/// </summary>
internal sealed class RestartBudget(int max, TimeSpan window)
{
    private readonly Queue<DateTimeOffset> _restarts = new();

    /// <summary>Restarts counted within the window as of the last call.</summary>
    public int Used => _restarts.Count;

    public int Max => max;

    public TimeSpan Window => window;

    /// <summary>Takes one restart if the window still has one; false when the budget is spent.</summary>
    public bool TryTake(DateTimeOffset now)
    {
        while (_restarts.TryPeek(out var oldest) && now - oldest >= window)
        {
            _restarts.Dequeue();
        }

        if (_restarts.Count >= max)
        {
            return false;
        }

        _restarts.Enqueue(now);
        return true;
    }

    public void Reset() => _restarts.Clear();
}
