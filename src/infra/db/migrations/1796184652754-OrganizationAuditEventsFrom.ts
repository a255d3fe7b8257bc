import { MigrationInterface, QueryRunner } from "typeorm";

export class OrganizationAuditEventsFrom1796184652754 implements MigrationInterface {
    name = 'OrganizationAuditEventsFrom1796184652754'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`audit_events_from\` bigint NULL`);
        // Written by hand: an organization re-created after a deletion shows its owners the events after that deletion only.
        await queryRunner.query(`UPDATE \`organizations\` \`o\` JOIN (SELECT \`organization_id\`, MAX(\`id\`) AS \`deleted\` FROM \`audit_events\` WHERE \`action\` = 'ORGANIZATION_DELETED' GROUP BY \`organization_id\`) \`d\` ON \`d\`.\`organization_id\` = \`o\`.\`id\` SET \`o\`.\`audit_events_from\` = \`d\`.\`deleted\` + 1`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`audit_events_from\``);
    }

}
