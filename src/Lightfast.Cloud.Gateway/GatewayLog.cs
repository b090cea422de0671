namespace Lightfast.Cloud.Gateway;

internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    public static partial void UnhandledException(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{Method} {Path} failed with {Status} {Code}: {Reason}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, int status, string code, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Loading servers file {Path}")]
    public static partial void LoadingServersFile(ILogger logger, string path);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Server {Server} from the servers file: {Status}")]
    public static partial void ImportedServer(ILogger logger, string server, string status);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Server {Server} from the servers file failed to start: {Code} {Message}")]
    public static partial void ImportedServerFailed(ILogger logger, string server, string code, string message);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "Importing the servers file failed")]
    public static partial void ImportFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "Gateway running in {Mode} mode")]
    public static partial void Mode(ILogger logger, string mode);
}
