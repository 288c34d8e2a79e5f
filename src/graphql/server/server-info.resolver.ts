import { Authorized, Query, Resolver } from 'type-graphql';
import { SystemService } from '../../system/system.service';
import { ServerInfo } from './server-info.type';

@Resolver(() => ServerInfo)
export class ServerInfoResolver {
  constructor(private readonly system: SystemService) {}

  @Authorized('sample')
  @Query(() => ServerInfo, { description: 'Backend, database and pool limits of this server.' })
  serverInfo(): ServerInfo {
    return this.system.info();
  }
}
