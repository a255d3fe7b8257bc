import { MigrationInterface, QueryRunner } from "typeorm";

export class OrganizationDeletions1796186133526 implements MigrationInterface {
    name = 'OrganizationDeletions1796186133526'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`organization_deletions\` (\`organization_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`deleted_at\` datetime(3) NOT NULL, PRIMARY KEY (\`organization_id\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE \`organization_deletions\``);
    }

}
